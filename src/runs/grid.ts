// The points of a sweep: every combination of the grid's values, times
// `samples` random draws (if any), each point a list of config assignments
// applied like --set. From the command line:
//
//   --grid training.lr=0.5,1,2 --grid model.seed=1,2,3       9 points
//   --grid model.layers=[784,100,10],[784,300,10]             commas inside [] stay
//
// or from a sweep file (YAML; its `config` is relative to the file):
//
//   config: default.yaml
//   grid:   { training.lr: [0.5, 1, 2], model.seed: [1, 2, 3] }
//   random: { samples: 4, seed: 1, keys: { training.momentum: { choice: [0.8, 0.9] },
//             training.lr: { log_uniform: [0.01, 1] }, regularization.l2: { uniform: [0, 0.001] } } }
//   metric: test_accuracy
import { Rng } from '../rng.js';
import { UserError } from '../errors.js';

/** One swept key and its values, as --set value texts. */
export interface Axis {
  key: string;
  values: string[];
}

export type Distribution = { choice: unknown[] } | { uniform: [number, number] } | { log_uniform: [number, number] };

export interface RandomSpec {
  samples: number;
  seed: number;
  keys: Record<string, Distribution>;
}

/** A point's assignments, key -> value text, in the order the keys were given. */
export type Settings = Record<string, string>;

/** "training.lr=0.5,1,2" -> { key: 'training.lr', values: ['0.5', '1', '2'] }. */
export function parseGridFlag(text: string): Axis {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new UserError(`--grid ${text}: expected KEY=V1,V2,... (e.g. training.lr=0.5,1,2)`);
  const key = text.slice(0, eq).trim();
  const values = splitTopLevel(text.slice(eq + 1)).map((v) => v.trim());
  if (values.length === 0 || values.some((v) => v === '')) throw new UserError(`--grid ${text}: an empty value`);
  return { key, values };
}

/** Split on commas outside [] and {}. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '[' || c === '{') depth++;
    else if (c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/** A YAML value as --set text: strings as they are, anything else as JSON (also valid YAML). */
export function valueText(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** Every combination, the first axis varying slowest; a key given twice is refused. */
export function gridSettings(axes: readonly Axis[]): Settings[] {
  const seen = new Set<string>();
  for (const a of axes) {
    if (seen.has(a.key)) throw new UserError(`--grid ${a.key} is given twice: put all its values in one --grid`);
    seen.add(a.key);
  }
  let points: Settings[] = [{}];
  for (const axis of axes) points = points.flatMap((p) => axis.values.map((v) => ({ ...p, [axis.key]: v })));
  return points;
}

/** `samples` draws of the random keys (seeded), each combined with every grid point. */
export function withRandom(grid: readonly Settings[], spec: RandomSpec | null): Settings[] {
  if (spec === null) return [...grid];
  const rng = new Rng(spec.seed);
  const draws: Settings[] = [];
  for (let s = 0; s < spec.samples; s++) {
    const draw: Settings = {};
    for (const [key, dist] of Object.entries(spec.keys)) draw[key] = valueText(drawOne(dist, rng));
    draws.push(draw);
  }
  return grid.flatMap((g) => draws.map((d) => ({ ...g, ...d })));
}

function drawOne(dist: Distribution, rng: Rng): unknown {
  if ('choice' in dist) return dist.choice[rng.int(dist.choice.length)];
  if ('uniform' in dist) return round4(dist.uniform[0] + (dist.uniform[1] - dist.uniform[0]) * rng.uniform());
  const [lo, hi] = dist.log_uniform;
  return round4(Math.exp(Math.log(lo) + (Math.log(hi) - Math.log(lo)) * rng.uniform()));
}

/** Four significant digits: readable names, and the config gets exactly the value the name shows. */
function round4(x: number): number {
  return Number(x.toPrecision(4));
}

/**
 * A folder name for a point: the last part of each key and its value,
 * "lr-0.5_seed-1"; characters a path should not hold become '-'. Names that
 * would collide get the whole key.
 */
export function pointNames(points: readonly Settings[]): string[] {
  const name = (s: Settings, full: boolean): string =>
    Object.entries(s)
      .map(([k, v]) => `${full ? k : (k.split('.').at(-1) ?? k)}-${v}`)
      .join('_')
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/-+/g, '-') || 'base';
  const short = points.map((p) => name(p, false));
  const names = new Set(short).size === short.length ? short : points.map((p) => name(p, true));
  if (new Set(names).size !== names.length) {
    // the same settings twice (a random draw repeating a choice): number them
    return names.map((n, i) => `${String(i + 1).padStart(String(names.length).length, '0')}_${n}`);
  }
  return names;
}
