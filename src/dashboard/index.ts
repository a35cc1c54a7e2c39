import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { PAGE_HTML, STYLE_CSS } from './page.js';

export type { ConvergenceJson, MemberJson, StreamEventName, StreamEvents, TrafficJson, UpdateEventJson, UserEventJson } from './stream-events.js';
export { formatStreamEvent, STREAM_EVENT_NAMES } from './stream-events.js';

/** One static file of the dashboard. */
export interface DashboardAsset {
  readonly contentType: string;
  readonly body: Uint8Array;
}

const encoder = new TextEncoder();
const require = createRequire(import.meta.url);

/**
 * The dashboard's files by URL path: `/` (the page) and `/dashboard/*` (its script and style,
 * and uPlot's script and style read from node_modules). Read once; the agent calls this at
 * startup and serves each path with its content type. Running from the TypeScript sources
 * (tests, tsx), the browser script is transpiled from `client.ts` on the fly.
 */
export async function loadDashboardAssets(): Promise<ReadonlyMap<string, DashboardAsset>> {
  const js = 'text/javascript; charset=utf-8';
  const css = 'text/css; charset=utf-8';
  return new Map<string, DashboardAsset>([
    ['/', { contentType: 'text/html; charset=utf-8', body: encoder.encode(PAGE_HTML) }],
    ['/dashboard/style.css', { contentType: css, body: encoder.encode(STYLE_CSS) }],
    ['/dashboard/client.js', { contentType: js, body: encoder.encode(await clientScript()) }],
    ['/dashboard/uplot.iife.min.js', { contentType: js, body: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js')) }],
    ['/dashboard/uplot.min.css', { contentType: css, body: readFileSync(require.resolve('uplot/dist/uPlot.min.css')) }],
  ]);
}

/** The compiled `client.js` next to this module (dist/), else `client.ts` transpiled (sources). */
async function clientScript(): Promise<string> {
  const compiled = fileURLToPath(new URL('./client.js', import.meta.url));
  if (existsSync(compiled)) return stripSourceMap(readFileSync(compiled, 'utf8'));
  const source = readFileSync(fileURLToPath(new URL('./client.ts', import.meta.url)), 'utf8');
  const ts = (await import('typescript')).default;
  const out = ts.transpileModule(source, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022, verbatimModuleSyntax: true },
    fileName: 'client.ts',
  });
  return out.outputText;
}

function stripSourceMap(js: string): string {
  return js.replace(/\n\/\/# sourceMappingURL=.*\s*$/, '\n');
}
