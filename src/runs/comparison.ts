// The comparison of a sweep or of run folders: comparison.md (a table,
// best first), comparison.json (the same rows) and comparison.html (the
// table and every run's curves overlaid: loss, training and validation
// accuracy per epoch), written atomically into one folder.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { writeFileAtomic } from '../output/atomic.js';
import { renderVegaLite } from '../report/vega.js';
import { escapeXml, inlineSvg } from '../report/xml.js';
import { metricOf, sortRuns, type RunRecord } from './compare.js';
import type { Metric } from './sweep-spec.js';

export interface ComparisonRow {
  name: string;
  dir: string;
  settings: Record<string, string>;
  status: 'finished' | 'unfinished';
  test_accuracy: number | null;
  test_loss: number | null;
  best_val_accuracy: number | null;
  epochs: number | null;
  train_seconds: number | null;
}

export function comparisonRows(records: readonly RunRecord[], metric: Metric): ComparisonRow[] {
  return sortRuns(records, metric).map((r) => ({
    name: r.name,
    dir: r.dir,
    settings: r.settings,
    status: r.summary === null ? 'unfinished' : 'finished',
    test_accuracy: metricOf(r, 'test_accuracy'),
    test_loss: metricOf(r, 'test_loss'),
    best_val_accuracy: metricOf(r, 'best_val_accuracy'),
    epochs: r.summary?.epochs ?? (r.curve.at(-1)?.epoch ?? null),
    train_seconds: metricOf(r, 'train_seconds'),
  }));
}

const pct = (x: number | null): string => (x === null ? '-' : `${(x * 100).toFixed(2)}`);
const num = (x: number | null, digits: number): string => (x === null ? '-' : x.toFixed(digits));

/** Header and cells of the table, shared by the markdown and the HTML. */
function tableCells(rows: readonly ComparisonRow[], keys: readonly string[]): { head: string[]; body: string[][] } {
  const head = ['run', ...keys, 'test acc (%)', 'test loss', 'best val acc (%)', 'epochs', 'train s'];
  const body = rows.map((r) => [
    r.status === 'finished' ? r.name : `${r.name} (unfinished)`,
    ...keys.map((k) => r.settings[k] ?? '-'),
    pct(r.test_accuracy),
    num(r.test_loss, 4),
    pct(r.best_val_accuracy),
    r.epochs === null ? '-' : String(r.epochs),
    num(r.train_seconds, 1),
  ]);
  return { head, body };
}

export function comparisonMarkdown(rows: readonly ComparisonRow[], keys: readonly string[], metric: Metric): string {
  const { head, body } = tableCells(rows, keys);
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |\n`;
  return `Sorted by ${metric}.\n\n${line(head)}${line(head.map(() => '---'))}${body.map(line).join('')}`;
}

/** One chart: `field` of every run per epoch, one line per run. */
function curveChart(records: readonly RunRecord[], field: 'loss' | 'train_accuracy' | 'val_accuracy', title: string, log: boolean): TopLevelSpec | null {
  const values = records.flatMap((r) => r.curve.filter((e) => e[field] !== null && Number.isFinite(e[field])).map((e) => ({ run: r.name, epoch: e.epoch, value: e[field] })));
  if (values.length === 0) return null;
  return {
    title,
    width: 640,
    height: 280,
    data: { values },
    mark: { type: 'line', point: values.length <= 400 },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', title: 'epoch' },
      y: { field: 'value', type: 'quantitative', title: field, scale: log ? { type: 'log' } : { zero: false }, ...(log ? {} : { axis: { format: '.1%' } }) },
      color: { field: 'run', type: 'nominal', title: null, legend: { orient: 'right', labelLimit: 300 } },
    },
  };
}

export async function comparisonHtml(title: string, rows: readonly ComparisonRow[], records: readonly RunRecord[], keys: readonly string[], metric: Metric): Promise<string> {
  const { head, body } = tableCells(rows, keys);
  const th = head.map((h) => `<th>${escapeXml(h)}</th>`).join('');
  const trs = body.map((cells) => `<tr>${cells.map((c) => `<td>${escapeXml(c)}</td>`).join('')}</tr>`).join('\n');
  const specs = [
    curveChart(records, 'loss', 'Training loss per sample (log scale)', true),
    curveChart(records, 'train_accuracy', 'Training accuracy', false),
    curveChart(records, 'val_accuracy', 'Validation accuracy', false),
  ].filter((s): s is TopLevelSpec => s !== null);
  const svgs = await Promise.all(specs.map((s) => renderVegaLite(s)));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeXml(title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}figure{margin:1.5em 0}</style>
</head><body>
<h1>${escapeXml(title)}</h1>
<p>${rows.length} runs, sorted by ${escapeXml(metric)}, best first.</p>
<table><thead><tr>${th}</tr></thead><tbody>
${trs}
</tbody></table>
${svgs.map((svg) => `<figure>${inlineSvg(svg)}</figure>`).join('\n')}
</body></html>
`;
}

/** comparison.md, comparison.json and comparison.html in `dir`; returns the rows. */
export async function writeComparison(dir: string, title: string, records: readonly RunRecord[], keys: readonly string[], metric: Metric): Promise<ComparisonRow[]> {
  const rows = comparisonRows(records, metric);
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(join(dir, 'comparison.md'), comparisonMarkdown(rows, keys, metric));
  writeFileAtomic(join(dir, 'comparison.json'), `${JSON.stringify({ metric, keys, rows }, null, 2)}\n`);
  writeFileAtomic(join(dir, 'comparison.html'), await comparisonHtml(title, rows, records, keys, metric));
  return rows;
}
