// Input files over their size limit are refused from their size alone (sparse
// test files: nothing is written or read but the metadata).
import { rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_IDX_BYTES, readIdx } from '../src/data/idx.js';
import { DataFileError, WeightsFileError } from '../src/errors.js';
import { MAX_FILE_BYTES, readSafetensors } from '../src/output/safetensors.js';
import { tempDir } from './helpers/cli.js';
import { errorOf } from './helpers/errors.js';

const dir = tempDir('mlp-read-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sparse(name: string, bytes: number): string {
  const file = join(dir, name);
  writeFileSync(file, '');
  truncateSync(file, bytes);
  return file;
}

describe('size limits', () => {
  it('an IDX file one byte over the limit', () => {
    const file = sparse('huge-idx3-ubyte', MAX_IDX_BYTES + 1);
    expect(errorOf(DataFileError, () => readIdx(file)).message).toBe(
      `${file}: ${MAX_IDX_BYTES + 1} bytes is more than the ${MAX_IDX_BYTES}-byte limit for an IDX file`,
    );
  });

  it('a safetensors file one byte over the limit', () => {
    const file = sparse('huge.safetensors', MAX_FILE_BYTES + 1);
    expect(errorOf(WeightsFileError, () => readSafetensors(file)).message).toBe(
      `${file}: ${MAX_FILE_BYTES + 1} bytes is more than the ${MAX_FILE_BYTES}-byte limit for a safetensors file`,
    );
  });
});
