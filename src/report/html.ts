// report.html: the charts inlined, with tables of the exact figures beside
// them. One file, inline CSS, no script, no URL: it opens offline anywhere.
import type { Dataset } from '../data/mnist.js';
import type { Evaluation } from '../eval/evaluate.js';
import type { EpochMetrics } from '../train/state.js';
import type { Chart, EvaluationHalf, ReportParts, ScoredWeights, Section, TrainingHalf } from './types.js';
import { escapeXml as esc, inlineSvg } from './xml.js';

const CSS = `
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; background: #f4f5f7; color: #1d1f23; }
header { background: #1f3b57; color: white; padding: 18px 32px; }
header h1 { margin: 0 0 4px; font-size: 22px; }
header p { margin: 0; opacity: 0.85; font-size: 13px; }
main { padding: 8px 32px 40px; max-width: 1400px; }
section { margin-top: 24px; }
h2 { font-size: 18px; border-bottom: 2px solid #d0d4da; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 20px 0 8px; }
.figures { display: flex; flex-wrap: wrap; gap: 12px; }
.figure { background: white; border-radius: 6px; padding: 10px 16px; box-shadow: 0 1px 2px rgba(0,0,0,0.08); }
.figure b { display: block; font-size: 20px; }
.figure span { font-size: 12px; color: #555; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
.chart { background: white; border-radius: 6px; padding: 8px; box-shadow: 0 1px 2px rgba(0,0,0,0.08); max-width: 100%; overflow-x: auto; }
.chart svg { display: block; height: auto; max-width: 100%; }
table { border-collapse: collapse; background: white; font-size: 12px; font-variant-numeric: tabular-nums; }
th, td { padding: 3px 8px; text-align: right; border-bottom: 1px solid #e3e6ea; }
th { background: #eef0f3; }
#weights-compared td:first-child, #weights-compared th:first-child { text-align: left; }
pre { background: white; padding: 12px; border-radius: 6px; font-size: 12px; overflow-x: auto; }
details { margin-top: 12px; }
`;

const pct = (x: number | null): string => (x === null ? '–' : `${(100 * x).toFixed(2)}%`);
const num = (x: number | null, digits: number): string => (x === null ? '–' : x.toFixed(digits));

function figures(items: Array<[string, string]>): string {
  return `<div class="figures">${items.map(([label, value]) => `<div class="figure"><b>${esc(value)}</b><span>${esc(label)}</span></div>`).join('')}</div>`;
}

function table(head: string[], rows: string[][], id: string): string {
  const th = head.map((h) => `<th>${esc(h)}</th>`).join('');
  const trs = rows.map((r) => `<tr>${r.map((v) => `<td>${esc(v)}</td>`).join('')}</tr>`).join('\n');
  return `<table id="${id}"><thead><tr>${th}</tr></thead><tbody>\n${trs}\n</tbody></table>`;
}

function chartsOf(charts: readonly Chart[], section: Section): string {
  const list = charts.filter((c) => c.section === section);
  return `<div class="charts">${list.map((c) => `<div class="chart" id="chart-${c.name}">${inlineSvg(c.svg)}</div>`).join('\n')}</div>`;
}

function metricsTable(metrics: readonly EpochMetrics[]): string {
  const head = ['epoch', 'lr', 'loss', 'data', 'discrim.', 'L2', 'train acc', 'val loss', 'val acc', 'seconds', 'eval s', 'GFLOP/s'];
  const rows = metrics.map((m) => [
    String(m.epoch),
    m.lr.toPrecision(3),
    num(m.loss, 5),
    num(m.loss_data, 5),
    num(m.loss_discriminative, 5),
    num(m.loss_l2, 5),
    pct(m.train_accuracy),
    num(m.val_loss, 5),
    pct(m.val_accuracy),
    num(m.seconds, 2),
    num(m.eval_seconds, 2),
    num(m.gflops, 1),
  ]);
  return table(head, rows, 'metrics');
}

function trainingSection({ config, metrics, summary }: TrainingHalf, charts: readonly Chart[]): string {
  const best = summary.best ? [[`test accuracy, best validation epoch ${summary.best.epoch}`, pct(summary.best.test_accuracy)] as [string, string]] : [];
  const stopped = summary.stopped === 'completed' ? 'all epochs' : summary.stopped.replace('_', ' ');
  return `
<section id="training"><h2>Training</h2>
${figures([
  ['test accuracy (last epoch)', pct(summary.test_accuracy)],
  ...best,
  ['test loss per sample', summary.test_loss.toFixed(4)],
  ['epochs', `${summary.epochs} (${stopped})`],
  ['training time', `${summary.train_seconds.toFixed(1)} s`],
  ['training GFLOP/s', summary.gflops.toFixed(1)],
  ['network', `${config.model.layers.join('-')}, ${summary.parameters.toLocaleString('en-US')} parameters`],
  ['samples train / validation / test', `${summary.samples.train} / ${summary.samples.validation} / ${summary.samples.test}`],
])}
${chartsOf(charts, 'training')}
<details open><summary>Metrics per epoch (metrics.jsonl)</summary>
${metricsTable(metrics)}
</details>
<details><summary>Resolved config (config.json)</summary>
<pre id="config">${esc(JSON.stringify(config, null, 2))}</pre>
</details>
</section>`;
}

const misclassified = (e: Evaluation): number => e.n - Math.round(e.accuracy * e.n);

/** Accuracy, loss and error count of one set of weights, its charts, and its per-class table (ids suffixed to stay unique). */
function scoredBlock(ds: Dataset, { label, evaluation: e }: ScoredWeights, charts: readonly Chart[], section: Section, suffix: string): string {
  const named = e.per_class.some((k) => k.name !== String(k.digit));
  const word = e.per_class.length === 10 && !named ? 'digit' : 'class';
  const head = [word, 'precision', 'recall', 'support'];
  const rows = e.per_class.map((k) => [named ? `${k.digit} ${k.name}` : k.name, pct(k.precision), pct(k.recall), String(k.support)]);
  return `
<div class="scored" id="scored${suffix}"><h3>${esc(label)}</h3>
${figures([
  [`${ds.name} accuracy`, pct(e.accuracy)],
  ['loss per sample', e.loss.toFixed(4)],
  ['samples', String(e.n)],
  ['misclassified', String(misclassified(e))],
])}
${chartsOf(charts, section)}
<details open><summary>Precision and recall per ${word}: ${esc(label)}</summary>
${table(head, rows, `per-class${suffix}`)}
</details>
</div>`;
}

/** Both sets of weights side by side in one table, when the run kept its best-validation weights. */
function comparison(ds: Dataset, scored: readonly ScoredWeights[]): string {
  if (scored.length < 2) return '';
  const head = ['weights', `${ds.name} accuracy`, 'loss per sample', 'misclassified'];
  const rows = scored.map(({ label, evaluation: e }) => [label, pct(e.accuracy), e.loss.toFixed(4), String(misclassified(e))]);
  return `<p>The ${esc(ds.name)} set scored twice: with the weights after the last epoch, and with the weights of the epoch of best validation accuracy.</p>
${table(head, rows, 'weights-compared')}`;
}

function evaluationSection({ weights, ds, evaluation, predicted, best }: EvaluationHalf, charts: readonly Chart[]): string {
  const last: ScoredWeights = { label: weights, evaluation, predicted };
  const scored = best ? [last, best] : [last];
  return `
<section id="evaluation"><h2>Evaluation on the ${esc(ds.name)} set</h2>
${comparison(ds, scored)}
${scoredBlock(ds, last, charts, 'evaluation', '')}
${best ? scoredBlock(ds, best, charts, 'evaluation-best', '-best') : ''}
</section>
<section id="weights"><h2>What the hidden units look for</h2>
<p>The first layer of ${esc(weights)}.</p>
${chartsOf(charts, 'weights')}
</section>`;
}

export function reportHtml(parts: ReportParts, charts: readonly Chart[]): string {
  const subtitle = [
    parts.training ? `${parts.training.config.model.layers.join('-')} ${parts.training.config.model.hidden}/${parts.training.config.model.output}, ${parts.training.config.loss}` : '',
    `written ${new Date().toISOString().replace('T', ' ').slice(0, 19)} UTC by mlp-mnist`,
  ]
    .filter(Boolean)
    .join(' · ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(parts.title)}</title>
<style>${CSS}</style>
</head>
<body>
<header><h1>${esc(parts.title)}</h1><p>${esc(subtitle)}</p></header>
<main>
${parts.training ? trainingSection(parts.training, charts) : ''}
${parts.evaluation ? evaluationSection(parts.evaluation, charts) : ''}
</main>
</body>
</html>
`;
}
