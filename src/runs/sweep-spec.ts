// A sweep: its base config, the points (src/runs/grid.ts) and the metric the
// comparison is sorted by; every point's config resolved (and so validated)
// before the first run starts, so that a typo in point 9 is not found after 8 runs.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { loadConfig } from '../config/load.js';
import { ConfigError, UserError } from '../errors.js';
import { describe } from '../output/atomic.js';
import { gridSettings, parseGridFlag, pointNames, valueText, withRandom, type Axis, type RandomSpec, type Settings } from './grid.js';
import type { RunPoint } from './point.js';

/** What a comparison can be sorted by (summary.json; best_val_accuracy from the best epoch). */
export const METRICS = ['test_accuracy', 'test_loss', 'best_val_accuracy', 'train_seconds'] as const;
export type Metric = (typeof METRICS)[number];

const range = z.tuple([z.number(), z.number()]).refine(([lo, hi]) => lo <= hi, 'expected [low, high] with low <= high');
const DistributionSchema = z.union([
  z.strictObject({ choice: z.array(z.unknown()).min(1) }),
  z.strictObject({ uniform: range }),
  z.strictObject({ log_uniform: range.refine(([lo]) => lo > 0, 'log_uniform needs low > 0') }),
]);

const SweepFileSchema = z.strictObject({
  config: z.string().min(1).optional(),
  grid: z.record(z.string(), z.array(z.unknown()).min(1)).default({}),
  random: z
    .strictObject({
      samples: z.number().int().positive(),
      seed: z.number().int().nonnegative().default(1),
      keys: z.record(z.string(), DistributionSchema),
    })
    .optional(),
  metric: z.enum(METRICS).optional(),
});

export interface SweepSpec {
  base: string | undefined; // the base config file (undefined: the defaults)
  axes: Axis[];
  random: RandomSpec | null;
  metric: Metric | undefined;
}

/** A sweep file (YAML or JSON), its paths resolved against its folder. */
export function readSweepFile(file: string): SweepSpec {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(file, '', `cannot read the sweep file: ${describe(err)}`);
  }
  const parsed = SweepFileSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(file, issue.path.join('.'), issue.message);
  }
  const s = parsed.data;
  return {
    base: s.config === undefined ? undefined : resolve(dirname(file), s.config),
    axes: Object.entries(s.grid).map(([key, values]) => ({ key, values: values.map(valueText) })),
    random: s.random ?? null,
    metric: s.metric,
  };
}

/** The command line's sweep: --config and its --grid flags. */
export function flagSweep(config: string | undefined, grids: readonly string[]): SweepSpec {
  return { base: config, axes: grids.map(parseGridFlag), random: null, metric: undefined };
}

/** Every point of the sweep with its resolved config; `sets` (--set) apply to all, before each point's own. */
export function sweepPoints(spec: SweepSpec, sets: readonly string[], outDir: string): RunPoint[] {
  const settings: Settings[] = withRandom(gridSettings(spec.axes), spec.random);
  if (settings.length === 1 && Object.keys(settings[0]).length === 0) {
    throw new UserError('a sweep needs at least one --grid KEY=V1,V2 (or a sweep file with grid or random keys)');
  }
  const names = pointNames(settings);
  return settings.map((s, i) => {
    const assignments = Object.entries(s).map(([k, v]) => `${k}=${v}`);
    let config;
    try {
      config = loadConfig(spec.base, [...sets, ...assignments]);
    } catch (err) {
      if (err instanceof UserError) throw new UserError(`point ${names[i]}: ${err.message}`);
      throw err;
    }
    return { name: names[i], dir: join(outDir, names[i]), config, settings: s };
  });
}
