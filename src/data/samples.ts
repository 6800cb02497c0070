// A few samples given by hand, for mlp-grad:
//   {"x": [[...], ...], "labels": [c, ...]}          targets = one-hot rows of the labels
//   {"x": [[...], ...], "targets": [[...], ...]}     targets as given (labels optional)
// Values are kept in float64: mlp-grad computes in double precision.
import { DataFileError } from '../errors.js';
import { readInputFile } from '../read-file.js';

/**
 * The largest samples file read: 16 MiB is some 3,000 MNIST rows written at
 * full float precision, far more than a listing anyone reads (mlp-grad prints
 * every value of every row).
 */
export const MAX_SAMPLES_BYTES = 16 * 1024 * 1024;

export interface Samples {
  n: number;
  X: Float64Array; // [n, I]
  D: Float64Array; // [n, O] targets
  labels: Uint8Array | null; // [n]
}

export function readSamples(file: string, I: number, O: number): Samples {
  const bytes = readInputFile(file, 'a JSON samples file', MAX_SAMPLES_BYTES, (f, problem) => new DataFileError(f, problem));
  const text = new TextDecoder('utf-8').decode(bytes); // as readFileSync(file, 'utf8') did, but a leading BOM is dropped
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new DataFileError(file, `not valid JSON (${(err as Error).message})`);
  }
  return parseSamples(raw, file, I, O);
}

export function parseSamples(raw: unknown, file: string, I: number, O: number): Samples {
  const fail = (problem: string): never => {
    throw new DataFileError(file, problem);
  };
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail('expected an object {"x": [[...]], "labels": [...]} or {"x", "targets"}');
  const obj = raw as Record<string, unknown>;
  const unknownKey = Object.keys(obj).find((k) => !['x', 'labels', 'targets'].includes(k));
  if (unknownKey !== undefined) fail(`unknown key "${unknownKey}" (expected x, labels, targets)`);

  const rows = (key: string, width: number): number[][] => {
    const v = obj[key];
    if (!Array.isArray(v) || v.length === 0) return fail(`"${key}" must be a non-empty list of rows`);
    return v.map((row: unknown, i) => {
      if (!Array.isArray(row) || row.length !== width) {
        return fail(`"${key}"[${i}]: expected a row of ${width} numbers, found ${Array.isArray(row) ? row.length : typeof row}`);
      }
      return row.map((x: unknown, j) => (typeof x === 'number' && Number.isFinite(x) ? x : fail(`"${key}"[${i}][${j}]: expected a finite number, found ${JSON.stringify(x)}`)));
    });
  };

  const x = rows('x', I);
  const n = x.length;
  let labels: Uint8Array | null = null;
  if (obj.labels !== undefined) {
    const l = obj.labels;
    if (!Array.isArray(l) || l.length !== n) fail(`"labels" must list one class per row of x (${n})`);
    labels = Uint8Array.from(l as unknown[], (c, i) =>
      Number.isInteger(c) && (c as number) >= 0 && (c as number) < O ? (c as number) : fail(`"labels"[${i}]: expected a class 0..${O - 1}, found ${JSON.stringify(c)}`),
    );
  }
  const D = new Float64Array(n * O);
  if (obj.targets !== undefined) {
    const t = rows('targets', O);
    if (t.length !== n) fail(`"targets" has ${t.length} rows, x has ${n}`);
    t.forEach((row, i) => D.set(row, i * O));
  } else if (labels !== null) {
    labels.forEach((c, i) => (D[i * O + c] = 1));
  } else {
    fail('give "labels" or "targets" for the rows of x');
  }
  return { n, X: Float64Array.from(x.flat()), D, labels };
}
