// The results table's rows (configs/table.yaml) and the CI guard's subset with
// its thresholds (configs/ci.yaml), read and validated once.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../errors.js';

const fraction = z.number().min(0).max(1);

const RowSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, 'lower-case letters, digits, . and -'),
  config: z.string().min(1), // relative to the table file's folder
  published: z.strictObject({ accuracy: fraction, source: z.string().min(1) }).nullable().default(null),
  note: z.string().default(''),
});

const TableSchema = z.strictObject({ rows: z.array(RowSchema).min(1) });

const CiRowSchema = z.strictObject({
  name: z.string().min(1),
  seeds: z.number().int().positive(),
  threshold: fraction,
  // the measured runs the threshold is derived from (test accuracy of seeds 1..n)
  derived_from: z.strictObject({ runs: z.array(fraction).min(1), source: z.string().min(1) }),
});

const CiSchema = z.strictObject({
  table: z.string().min(1), // relative to the ci file's folder
  rows: z.array(CiRowSchema).min(1),
});

/** Seeds 1..TABLE_SEEDS per row: the default of --seeds, and what a published row needs. */
export const TABLE_SEEDS = 5;

export type RowSpec = z.output<typeof RowSchema> & { configPath: string };
export interface TableSpec {
  file: string;
  rows: RowSpec[];
}
export type CiRow = z.output<typeof CiRowSchema>;
export interface CiSpec {
  file: string;
  table: TableSpec;
  rows: CiRow[];
}

export function loadTableSpec(file: string): TableSpec {
  const spec = readYaml(file, TableSchema);
  const seen = new Set<string>();
  for (const r of spec.rows) {
    if (seen.has(r.name)) throw new ConfigError(file, 'rows', `row ${r.name} is listed twice`);
    seen.add(r.name);
  }
  const dir = dirname(file);
  return { file, rows: spec.rows.map((r) => ({ ...r, configPath: resolve(dir, r.config) })) };
}

export function loadCiSpec(file: string): CiSpec {
  const spec = readYaml(file, CiSchema);
  const table = loadTableSpec(resolve(dirname(file), spec.table));
  for (const r of spec.rows) rowByName(table, r.name, file);
  return { file, table, rows: spec.rows };
}

/** The rows named (all when `only` is empty), in table order; an unknown name is a one-line error. */
export function selectRows(table: TableSpec, only: readonly string[], source = '--only'): RowSpec[] {
  for (const name of only) rowByName(table, name, source);
  return only.length === 0 ? table.rows : table.rows.filter((r) => only.includes(r.name));
}

function rowByName(table: TableSpec, name: string, source: string): RowSpec {
  const row = table.rows.find((r) => r.name === name);
  if (!row) {
    throw new ConfigError(source, '', `unknown row ${JSON.stringify(name)} (rows of ${table.file}: ${table.rows.map((r) => r.name).join(', ')})`);
  }
  return row;
}

function readYaml<S extends z.ZodType>(file: string, schema: S): z.output<S> {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(file, '', `cannot read: ${(err as Error).message.split('\n')[0]}`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(file, issue.path.join('.'), issue.message);
  }
  return parsed.data;
}
