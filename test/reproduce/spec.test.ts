import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { loadCiSpec, loadTableSpec, selectRows } from '../../src/reproduce/spec.js';
import { MIN_THRESHOLD_RUNS, threshold } from '../../src/reproduce/stats.js';
import { readTable } from '../../src/reproduce/table.js';
import { ROOT } from '../helpers/cli.js';
import { useTempFiles } from '../helpers/files.js';

const TABLE = join(ROOT, 'configs', 'table.yaml');

describe('configs/table.yaml', () => {
  const table = loadTableSpec(TABLE);

  it.each(table.rows.map((r) => [r.name, r]))('row %s: its config loads and says where the row comes from', (name, row) => {
    expect(() => loadConfig(row.configPath)).not.toThrow();
    const text = readFileSync(row.configPath, 'utf8');
    expect(text.startsWith(`# Row ${name} of the results table`)).toBe(true);
  });

  it('the discriminative rows differ from discriminative-0 in gamma (and the gradient, epochs) only', () => {
    const base = loadConfig(join(ROOT, 'configs', 'discriminative-0.yaml'));
    for (const row of table.rows.filter((r) => /^discriminative-[0-9.]+(-seed-blog|-60ep)?$/.test(r.name))) {
      const c = loadConfig(row.configPath);
      expect({ ...c, regularization: base.regularization, training: { ...c.training, epochs: 20 } }).toEqual(base);
    }
  });
});

describe('selectRows', () => {
  const table = loadTableSpec(TABLE);

  it('all rows without --only; the named ones in table order otherwise', () => {
    expect(selectRows(table, [])).toEqual(table.rows);
    expect(selectRows(table, ['discriminative-1', 'seed-minibatch']).map((r) => r.name)).toEqual(['seed-minibatch', 'discriminative-1']);
  });

  it('an unknown name is a one-line error listing the rows', () => {
    expect(() => selectRows(table, ['seed-minibtach'])).toThrow(/^--only: unknown row "seed-minibtach" \(rows of .*table\.yaml: seed-minibatch, /);
  });
});

describe('table file errors', () => {
  const tmp = useTempFiles('mlp-table-');
  it.each([
    ['rows:\n  - name: a\n    config: a.yaml\n  - name: a\n    config: b.yaml\n', 'rows: row a is listed twice'],
    ['rows:\n  - name: a\n    config: a.yaml\n    publshed: null\n', 'rows.0: Unrecognized key: "publshed"'],
    ['rows: []\n', 'rows: Too small: expected array to have >=1 items'],
    ['rows:\n  - name: A b\n    config: a.yaml\n', 'rows.0.name: lower-case letters, digits, . and -'],
  ])('%j', (text, message) => {
    const file = tmp.write('t.yaml', text);
    expect(() => loadTableSpec(file)).toThrow(`${file}: ${message}`);
  });
});

describe('configs/ci.yaml: the CI subset and its thresholds', () => {
  const ci = loadCiSpec(join(ROOT, 'configs', 'ci.yaml'));
  const published = readTable(join(ROOT, 'results', 'table.json'));

  it.each(ci.rows.map((r) => [r.name, r]))(
    '%s: threshold = mean - 3 sd of the runs written beside it, and those are the runs of results/table.json',
    (name, row) => {
      expect(row.derived_from.runs.length).toBeGreaterThanOrEqual(MIN_THRESHOLD_RUNS);
      expect(row.threshold).toBe(threshold(row.derived_from.runs));
      const measured = published.rows.find((r) => r.name === name);
      expect(measured?.runs.map((r) => r.test_accuracy)).toEqual(row.derived_from.runs);
      // the CI runs seeds 1..k of those, so a healthy tree clears every threshold
      expect(row.seeds).toBeLessThanOrEqual(row.derived_from.runs.length);
    },
  );
});

describe('the README', () => {
  it('embeds results/table.md as produced', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain(readFileSync(join(ROOT, 'results', 'table.md'), 'utf8'));
  });
});
