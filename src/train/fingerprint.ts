// What a run trains on, recorded in its checkpoints so that --resume can tell
// the same data from other data: the sample count, the bytes and a sha256 of
// the bytes as the trainer uses them (after data.limit and the validation
// split): training images, training labels, then the validation split's.
// Replacing an IDX file between a kill and a resume changes it, even when the
// shape stays the same; a file that only moved does not.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Dataset } from '../data/mnist.js';

export const DataFingerprintSchema = z.strictObject({
  samples: z.number().int().nonnegative(), // training + validation
  bytes: z.number().int().nonnegative(), // of images and labels
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type DataFingerprint = z.infer<typeof DataFingerprintSchema>;

export function dataFingerprint(train: Dataset, validation: Dataset | null): DataFingerprint {
  const hash = createHash('sha256');
  let bytes = 0;
  for (const part of [train.images, train.labels, validation?.images, validation?.labels]) {
    if (!part) continue;
    hash.update(part);
    bytes += part.length;
  }
  return { samples: train.n + (validation?.n ?? 0), bytes, sha256: hash.digest('hex') };
}

export function sameData(a: DataFingerprint, b: DataFingerprint): boolean {
  return a.samples === b.samples && a.bytes === b.bytes && a.sha256 === b.sha256;
}

/** "4000 samples, 3140000 bytes, sha256 1a2b3c4d5e6f" */
export function describeData(f: DataFingerprint): string {
  return `${f.samples} samples, ${f.bytes} bytes, sha256 ${f.sha256.slice(0, 12)}`;
}
