import type { TopLevelSpec } from 'vega-lite';
import { UsageError } from './parse.js';

/**
 * vega and vega-lite are optional dependencies, loaded only here (by `--plot`): the agent, the
 * library and every other command run without them (issue 14).
 */
export async function loadVega(): Promise<[typeof import('vega'), typeof import('vega-lite')]> {
  try {
    return await Promise.all([import('vega'), import('vega-lite')]);
  } catch (e) {
    const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new UsageError(`--plot needs the optional packages vega and vega-lite (npm install vega vega-lite): ${why}`);
  }
}

/** Renders a Vega-Lite spec to an SVG string, headless (no browser, no canvas). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const [vega, { compile }] = await loadVega();
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export interface Series {
  name: string;
  points: readonly { x: number; y: number }[];
}

/** A line chart of several series. */
export function lineChart(title: string, xTitle: string, yTitle: string, series: readonly Series[]): TopLevelSpec {
  const values = series.flatMap((s) => s.points.map((p) => ({ series: s.name, x: p.x, y: p.y })));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: 640,
    height: 360,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: xTitle },
      y: { field: 'y', type: 'quantitative', title: yTitle },
      color: { field: 'series', type: 'nominal', title: null, legend: { orient: 'bottom-right', fillColor: 'white', padding: 6, labelLimit: 400 } },
      strokeDash: { field: 'series', type: 'nominal', title: null },
    },
  };
}
