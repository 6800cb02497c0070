// writeFileAtomic: the target holds the old bytes or the new ones, never a mix,
// and no temp file outlives the call. A full disk is simulated by failing
// node:fs writeSync part-way (the only way to make a write fail as root).
import { closeSync, existsSync, linkSync, mkdirSync, openSync, readFileSync, readdirSync, readSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { OutputError, UserError } from '../../src/errors.js';
import { checkOutputs, makeDir, writeFileAtomic, writeFileAtomicAsync } from '../../src/output/atomic.js';
import { tempDir } from '../helpers/cli.js';

const fault = vi.hoisted(() => ({ writeSyncAfter: -1 as number }));

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  // Fail with ENOSPC once `writeSyncAfter` bytes have gone out (-1 = never), after a short write.
  const writeSync = ((fd: number, buf: Uint8Array, off?: number, len?: number) => {
    if (fault.writeSyncAfter < 0) return fs.writeSync(fd, buf, off, len);
    const budget = fault.writeSyncAfter;
    if (budget === 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
    const n = fs.writeSync(fd, buf, off, Math.min(len ?? buf.length, budget));
    fault.writeSyncAfter -= n;
    return n;
  }) as typeof fs.writeSync;
  return { ...fs, default: { ...fs, writeSync }, writeSync };
});

const dirs: string[] = [];
let dir: string;
beforeEach(() => {
  dir = tempDir('mlp-atomic-');
  dirs.push(dir);
  fault.writeSyncAfter = -1;
});
afterEach(() => {
  fault.writeSyncAfter = -1;
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const bytes = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

/** The OutputError that fn throws: one line naming the target file. */
function thrown(fn: () => unknown): OutputError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(OutputError);
    expect((err as Error).message).not.toContain('\n');
    return err as OutputError;
  }
  throw new Error('expected an error, nothing was thrown');
}

describe('writeFileAtomic: writes', () => {
  it.each<[string, string | Uint8Array, Uint8Array]>([
    ['an empty string', '', new Uint8Array(0)],
    ['ASCII text', 'loss 0.25\n', Uint8Array.from([...'loss 0.25\n'].map((c) => c.charCodeAt(0)))],
    // UTF-8: π = cf 80, ≈ = e2 89 88
    ['a UTF-8 string', 'π≈3', Uint8Array.from([0xcf, 0x80, 0xe2, 0x89, 0x88, 0x33])],
    ['bytes', bytes(1000, 1), bytes(1000, 1)],
    ['bytes with NULs and 0xff', Uint8Array.from([0, 255, 0, 0, 255]), Uint8Array.from([0, 255, 0, 0, 255])],
    ['3 MiB of bytes (several writes on some systems)', bytes(3 << 20, 2), bytes(3 << 20, 2)],
    ['a view into a larger buffer', bytes(100, 3).subarray(10, 20), bytes(100, 3).subarray(10, 20)],
  ])('%s', (_name, data, expected) => {
    const file = join(dir, 'out.bin');
    writeFileAtomic(file, data);
    expect(Buffer.from(readFileSync(file)).equals(Buffer.from(expected))).toBe(true);
    expect(readdirSync(dir)).toEqual(['out.bin']);
  });

  it('replaces an existing, longer file completely (no old tail left)', () => {
    const file = join(dir, 'metrics.csv');
    writeFileSync(file, 'old old old old old old\n');
    writeFileAtomic(file, 'new\n');
    expect(readFileSync(file, 'utf8')).toBe('new\n');
    expect(readdirSync(dir)).toEqual(['metrics.csv']);
  });

  it('replaces by rename: a reader that opened the old file keeps reading the old bytes', () => {
    const file = join(dir, 'model.safetensors');
    writeFileSync(file, 'OLD-CONTENT');
    const inodeBefore = statSync(file).ino;
    const fd = openSync(file, 'r');
    try {
      writeFileAtomic(file, 'NEW');
      const buf = Buffer.alloc(32);
      const n = readSync(fd, buf, 0, 32, 0);
      expect(buf.subarray(0, n).toString()).toBe('OLD-CONTENT');
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(file, 'utf8')).toBe('NEW');
    expect(statSync(file).ino).not.toBe(inodeBefore);
  });

  it('many writes in a row leave only the target, holding the last content', () => {
    const file = join(dir, 'log.json');
    for (let k = 0; k < 20; k++) writeFileAtomic(file, `{"k": ${k}}\n`);
    expect(readFileSync(file, 'utf8')).toBe('{"k": 19}\n');
    expect(readdirSync(dir)).toEqual(['log.json']);
  });

  it('leaves other files in the folder alone', () => {
    writeFileSync(join(dir, 'a.txt'), 'a');
    writeFileSync(join(dir, 'b.txt.tmp-keep'), 'b');
    writeFileAtomic(join(dir, 'b.txt'), 'B');
    expect(readdirSync(dir).sort()).toEqual(['a.txt', 'b.txt', 'b.txt.tmp-keep']);
    expect(readFileSync(join(dir, 'a.txt'), 'utf8')).toBe('a');
    expect(readFileSync(join(dir, 'b.txt.tmp-keep'), 'utf8')).toBe('b');
  });
});

describe('writeFileAtomic: failures', () => {
  it('the target folder does not exist: one line naming the target, nothing created', () => {
    const file = join(dir, 'no-such-run', 'config.json');
    const err = thrown(() => writeFileAtomic(file, '{}'));
    expect(err.file).toBe(file);
    expect(err.message).toBe(`${file}: cannot write: no such file or directory (ENOENT, open)`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('the disk fills up part-way: the earlier file is intact and no temp file is left', () => {
    const file = join(dir, 'model.safetensors');
    const old = bytes(5000, 7);
    writeFileSync(file, old);
    fault.writeSyncAfter = 4096; // a short write of 4096 bytes, then ENOSPC
    const err = thrown(() => writeFileAtomic(file, bytes(100_000, 9)));
    expect(err.message).toBe(`${file}: cannot write: no space left on device (ENOSPC, write)`);
    expect(fault.writeSyncAfter).toBe(0); // the fault did fire after a partial write
    expect(Buffer.from(readFileSync(file)).equals(Buffer.from(old))).toBe(true);
    expect(readdirSync(dir)).toEqual(['model.safetensors']);
  });

  it('the disk is full from the first byte: no target is created and no temp file is left', () => {
    const file = join(dir, 'best.safetensors');
    fault.writeSyncAfter = 0;
    expect(thrown(() => writeFileAtomic(file, 'x')).message).toBe(`${file}: cannot write: no space left on device (ENOSPC, write)`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('the target is a directory: the rename fails, the directory and its files are intact, no temp file is left', () => {
    const target = join(dir, 'run');
    mkdirSync(target);
    writeFileSync(join(target, 'keep.txt'), 'keep');
    const err = thrown(() => writeFileAtomic(target, 'data'));
    expect(err.message).toBe(`${target}: cannot write: illegal operation on a directory (EISDIR, rename)`);
    expect(statSync(target).isDirectory()).toBe(true);
    expect(readFileSync(join(target, 'keep.txt'), 'utf8')).toBe('keep');
    expect(readdirSync(dir)).toEqual(['run']);
  });
});

describe('makeDir', () => {
  it('creates missing parents, and accepts a folder that exists', () => {
    const deep = join(dir, 'a', 'b', 'c');
    makeDir(deep);
    expect(statSync(deep).isDirectory()).toBe(true);
    makeDir(deep);
    expect(statSync(deep).isDirectory()).toBe(true);
  });

  it('refuses a path through a file, naming it', () => {
    writeFileSync(join(dir, 'file'), 'x');
    expect(thrown(() => makeDir(join(dir, 'file', 'sub'))).message).toBe(`${join(dir, 'file', 'sub')}: cannot create the folder: not a directory (ENOTDIR, stat)`);
    expect(thrown(() => makeDir(join(dir, 'file'))).message).toBe(`${join(dir, 'file')}: exists and is not a folder`);
  });

  // Node's own mkdirSync(..., { recursive: true }) never returns here on Linux.
  it.runIf(existsSync('/proc/self'))('returns an error for a folder under /proc instead of retrying forever', () => {
    expect(thrown(() => makeDir('/proc/no-such-dir/run')).message).toBe('/proc/no-such-dir: cannot create the folder: no such file or directory (ENOENT, mkdir)');
  });
});

describe('writeFileAtomicAsync: the same guarantees, in chunks', () => {
  it('writes a file of several chunks, leaving only the target', async () => {
    const file = join(dir, 'weights.json');
    const data = bytes(3 * (1 << 20) + 17, 5); // 3 whole 1 MiB chunks and a bit
    await writeFileAtomicAsync(file, data);
    expect(Buffer.from(readFileSync(file)).equals(Buffer.from(data))).toBe(true);
    expect(readdirSync(dir)).toEqual(['weights.json']);
  });

  it('the disk fills up in the second chunk: one line, the old file intact, no temp file left', async () => {
    const file = join(dir, 'model.onnx');
    writeFileSync(file, 'OLD');
    fault.writeSyncAfter = (1 << 20) + 100;
    const err = await writeFileAtomicAsync(file, bytes(3 << 20, 1)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OutputError);
    expect((err as OutputError).message).toBe(`${file}: cannot write: no space left on device (ENOSPC, write)`);
    expect(readFileSync(file, 'utf8')).toBe('OLD');
    expect(readdirSync(dir)).toEqual(['model.onnx']);
  });
});

describe('checkOutputs: an output must be neither an input nor another output', () => {
  const refused = (inputs: Array<[string, string]>, outputs: Array<[string, string]>): string => {
    try {
      checkOutputs(inputs, outputs);
    } catch (err) {
      expect(err).toBeInstanceOf(UserError);
      return (err as Error).message;
    }
    return 'accepted';
  };

  it.each([
    ['the input itself', 'w.st', `--onnx w.st: the same file as --weights w.st; an output must not replace an input`],
    ['the input by another spelling', './sub/../w.st', `--onnx ./sub/../w.st: the same file as --weights w.st; an output must not replace an input`],
    ['a symbolic link to the input', 'link.st', `--onnx link.st: the same file as --weights w.st; an output must not replace an input`],
    ['a hard link to the input', 'hard.st', `--onnx hard.st: the same file as --weights w.st; an output must not replace an input`],
    ['a new file', 'model.onnx', 'accepted'],
  ])('%s', (_what, onnx, expected) => {
    writeFileSync(join(dir, 'w.st'), 'weights');
    mkdirSync(join(dir, 'sub'));
    symlinkSync('w.st', join(dir, 'link.st'));
    linkSync(join(dir, 'w.st'), join(dir, 'hard.st'));
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      expect(refused([['--weights', 'w.st']], [['--onnx', onnx]])).toBe(expected);
    } finally {
      process.chdir(cwd);
    }
  });

  it('two outputs naming one new file, through a linked folder', () => {
    mkdirSync(join(dir, 'out'));
    symlinkSync('out', join(dir, 'alias'));
    const a = join(dir, 'out', 'm.onnx');
    const b = join(dir, 'alias', 'm.onnx');
    expect(refused([], [['--onnx', a], ['--weights-json', b]])).toBe(`--weights-json ${b}: the same file as --onnx ${a}; each output needs its own file`);
    expect(refused([], [['--onnx', a], ['--weights-json', join(dir, 'out', 'm.json')]])).toBe('accepted');
  });
});
