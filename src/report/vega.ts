// Vega-Lite spec -> standalone SVG text, in Node, without a canvas: vega-lite
// compiles the spec to a Vega spec, a headless Vega View (renderer 'none')
// renders its scenegraph as SVG. Text widths are estimated (no canvas), which
// only affects label placement.
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** Shared look of every chart: one font, no chart border, a white background. */
const CONFIG = {
  font: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal' as const },
  legend: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal' as const },
  title: { fontSize: 14, anchor: 'start' as const, fontWeight: 'bold' as const },
};

export async function renderVegaLite(spec: TopLevelSpec): Promise<string> {
  const vg = compile({ ...spec, background: 'white', config: { ...CONFIG, ...spec.config } } as TopLevelSpec).spec;
  const view = new View(parse(vg), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
