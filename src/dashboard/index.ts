import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { pageCsp, renderPage } from './page.js';

export type { ConvergenceJson, InfoJson, KvEventJson, KvReadJson, LaggedJson, MemberEventJson, MemberJson, QuorumJson, StreamEventName, StreamEvents, TimelineEntry, TimelineKind, UserEventJson, ViewJson } from './stream-events.js';
export { formatStreamEvent } from './stream-events.js';

/** What the agent serves at `GET /` (src/agent/http-api.ts `DashboardPage`). */
export interface DashboardPage {
  readonly contentType: string;
  readonly body: Uint8Array;
  /** Its Content-Security-Policy (the hashes of its inline scripts). */
  readonly csp: string;
}

const require = createRequire(import.meta.url);

let page: DashboardPage | null = null;

/**
 * The dashboard: one self-contained HTML page (its style, uPlot's script and style from
 * node_modules, and the browser script all inlined), built on the first call (the first
 * `GET /`), not when the agent starts: an agent nobody looks at never reads or holds it.
 */
export function dashboardPage(): DashboardPage {
  page ??= buildPage();
  return page;
}

/** The compiled `client.js` next to this module (dist/), else `client.ts` transpiled (sources, tsx). */
function clientScript(): string {
  const compiled = fileURLToPath(new URL('./client.js', import.meta.url));
  if (existsSync(compiled)) return readFileSync(compiled, 'utf8').replace(/\n\/\/# sourceMappingURL=\S*\s*$/, '\n');
  const source = readFileSync(fileURLToPath(new URL('./client.ts', import.meta.url)), 'utf8');
  const ts = require('typescript') as typeof import('typescript');
  const out = ts.transpileModule(source, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022, verbatimModuleSyntax: true },
    fileName: 'client.ts',
  });
  return out.outputText;
}

function buildPage(): DashboardPage {
  const parts = {
    uplotCss: readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
    uplotJs: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
    clientJs: clientScript(),
  };
  return { contentType: 'text/html; charset=utf-8', body: new TextEncoder().encode(renderPage(parts)), csp: pageCsp(parts) };
}
