// PNG headers checked before decoding: every side bounded, not only the
// product (a 50,000,000 x 1 image is within the pixel bound and took 5.5 GB
// to fail), and pipes and devices read through the bounded reader.
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { MAX_SIDE, readDigitPng, readPng } from '../../src/data/png-digit.js';
import { DataFileError } from '../../src/errors.js';
import { errorOf } from '../helpers/errors.js';
import { useTempFiles, withFifo } from '../helpers/files.js';
import { pngHeader } from '../helpers/png.js';

const dataErrorOf = (fn: () => unknown): DataFileError => errorOf(DataFileError, fn);

describe('image size from the header, before decoding', () => {
  const { write } = useTempFiles('mlp-png-');

  it.each<[number, number, string]>([
    [50_000_000, 1, '50000000x1 pixels: a side of 50000000 is more than the 16384-pixel limit per side'],
    [1, 50_000_000, '1x50000000 pixels: a side of 50000000 is more than the 16384-pixel limit per side'],
    [MAX_SIDE + 1, 1, '16385x1 pixels: a side of 16385 is more than the 16384-pixel limit per side'],
    [1, MAX_SIDE + 1, '1x16385 pixels: a side of 16385 is more than the 16384-pixel limit per side'],
    [7072, 7072, '7072x7072 pixels is more than the 50000000-pixel limit'],
    [2 ** 32 - 1, 2 ** 32 - 1, '4294967295x4294967295 pixels is more than the 50000000-pixel limit'],
    [0, 5, 'damaged PNG image: the header says 0x5 pixels'],
    [5, 0, 'damaged PNG image: the header says 5x0 pixels'],
  ])('%i x %i -> one line', (w, h, problem) => {
    const file = write(`${w}x${h}.png`, pngHeader(w, h));
    const err = dataErrorOf(() => readPng(file));
    expect(err.message).toBe(`${file}: ${problem}`);
    expect(err.file).toBe(file);
  });

  it('a side of exactly 16384 is accepted: a 16384 x 3 line is a digit', () => {
    const png = new PNG({ width: MAX_SIDE, height: 3, colorType: 0 });
    png.data.fill(255);
    for (let x = 100; x < MAX_SIDE - 100; x++) png.data.fill(0, 4 * (MAX_SIDE + x), 4 * (MAX_SIDE + x) + 3); // a dark middle row
    const file = write('wide.png', PNG.sync.write(png, { colorType: 0 }));
    const digit = readDigitPng(file);
    expect(digit.length).toBe(784);
    expect(Math.max(...digit)).toBe(1);
  });
});

describe('pipes and devices', () => {
  const { dir, write } = useTempFiles('mlp-png-pipe-');

  it.each<[string, string]>([
    ['/dev/zero', 'not a PNG image (the file does not start with the PNG signature)'],
    ['/dev/urandom', 'not a PNG image (the file does not start with the PNG signature)'],
    ['/dev/null', 'not a PNG image (the file does not start with the PNG signature)'],
  ])('%s -> refused on its first bytes', (file, problem) => {
    expect(dataErrorOf(() => readPng(file)).message).toBe(`${file}: ${problem}`);
  });

  it('a 50,000,000 x 1 header followed by endless zeros through a pipe: refused on the header', () => {
    const head = write('head.png', pngHeader(50_000_000, 1).subarray(0, 33));
    withFifo(dir, 'fifo.png', `cat '${head}' /dev/zero`, (fifo) =>
      expect(dataErrorOf(() => readPng(fifo)).message).toBe(`${fifo}: 50000000x1 pixels: a side of 50000000 is more than the 16384-pixel limit per side`),
    );
  });
});
