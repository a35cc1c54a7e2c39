/**
 * The dashboard's page and style. Kept as strings so the TypeScript build carries them into
 * `dist/` with nothing to copy; the page's behaviour is in `client.ts`, the charts are uPlot's
 * (read from node_modules). Everything is inlined: the agent serves one self-contained page.
 */

import { createHash } from 'node:crypto';

/** What the page inlines: scripts and styles as text. */
export interface PageParts {
  readonly uplotCss: string;
  readonly uplotJs: string;
  readonly clientJs: string;
}

/** Text safe inside a `<script>` or `<style>` element: no sequence that would close it early. */
function inlineSafe(text: string, element: 'script' | 'style'): string {
  return text.replace(new RegExp(`</${element}`, 'gi'), `<\\/${element}`);
}

/**
 * The page's Content-Security-Policy: only its own two inline scripts run (by hash), it talks
 * only to its own origin, it loads nothing else and is never framed. Styles may be inline
 * (uPlot sets element styles).
 */
export function pageCsp(p: PageParts): string {
  const hash = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
  const scripts = [inlineSafe(p.uplotJs, 'script'), inlineSafe(p.clientJs, 'script')].map(hash).join(' ');
  return `default-src 'none'; script-src ${scripts}; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;
}

export function renderPage(p: PageParts): string {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>gossip-coordinator dashboard</title>
  <link rel="icon" href="data:,">
  <style>${inlineSafe(p.uplotCss, 'style')}</style>
  <style>${inlineSafe(STYLE_CSS, 'style')}</style>
  <script>${inlineSafe(p.uplotJs, 'script')}</script>
  <script type="module">${inlineSafe(p.clientJs, 'script')}</script>
</head>
<body>
  <header>
    <h1>gossip-coordinator</h1>
    <p id="served-by">served by …</p>
    <p id="connection" role="status" aria-live="polite" data-state="connecting">connecting…</p>
  </header>
  <main>
    <section aria-labelledby="members-title">
      <h2 id="members-title">Members</h2>
      <p id="members-summary" aria-live="polite">no members yet</p>
      <table id="members">
        <caption class="visually-hidden">Cluster members with their state, tags, probe round-trip time and the round trip estimated from network coordinates</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Address</th>
            <th scope="col">State</th>
            <th scope="col">Tags</th>
            <th scope="col" class="num">Incarnation</th>
            <th scope="col" class="num">RTT</th>
            <th scope="col" class="num" title="Estimated from network coordinates">Est. RTT</th>
          </tr>
        </thead>
        <tbody></tbody>
      </table>
    </section>
    <section aria-labelledby="view-title">
      <h2 id="view-title">Membership view</h2>
      <p id="view-now" aria-live="polite">no view yet</p>
      <p id="quorum-now" aria-live="polite"></p>
      <p id="view-disagree-summary"></p>
      <table id="view-disagreeing" hidden>
        <caption class="visually-hidden">Live members not yet seen holding this node's view, with the checksum they last reported</caption>
        <thead><tr><th scope="col">Member</th><th scope="col">Its last reported checksum</th></tr></thead>
        <tbody></tbody>
      </table>
    </section>
    <section aria-labelledby="agreement-title">
      <h2 id="agreement-title">Agreement</h2>
      <p id="agreement-now" aria-live="polite">no data yet</p>
      <div id="agreement-chart" class="chart" role="img" aria-label="Fraction of alive members whose state matches this node's, over time"></div>
    </section>
    <section aria-labelledby="tte-title">
      <h2 id="tte-title">Time to everyone</h2>
      <p id="tte-now" aria-live="polite">no update measured yet</p>
      <div id="tte-chart" class="chart" role="img" aria-label="Milliseconds until every member had each recent update, oldest to newest"></div>
    </section>
    <section aria-labelledby="traffic-title">
      <h2 id="traffic-title">Bytes per second by type</h2>
      <div id="traffic-chart" class="chart" role="img" aria-label="Bytes per second sent and received, by message type, over time"></div>
      <table id="traffic">
        <caption class="visually-hidden">Bytes per second in the last sample, by message type</caption>
        <thead><tr><th scope="col">Type</th><th scope="col" class="num">In</th><th scope="col" class="num">Out</th></tr></thead>
        <tbody></tbody>
      </table>
    </section>
    <section aria-labelledby="log-title">
      <h2 id="log-title">Recent updates and events</h2>
      <ol id="log" reversed></ol>
    </section>
    <section aria-labelledby="kv-title">
      <h2 id="kv-title">Keys</h2>
      <form id="kv-search" role="search">
        <label for="kv-prefix">Prefix</label>
        <input id="kv-prefix" type="search" placeholder="every key" autocomplete="off">
        <button type="submit">List</button>
      </form>
      <p id="kv-summary" aria-live="polite">no keys listed yet</p>
      <ul id="kv-keys"></ul>
      <div id="kv-detail" hidden>
        <h3 id="kv-key"></h3>
        <p id="kv-type"></p>
        <ol id="kv-values"></ol>
        <p>context <code id="kv-context"></code></p>
      </div>
    </section>
  </main>
</body>
</html>
`;
}

export const STYLE_CSS = `:root {
  --fg: #1b1f24;
  --muted: #57606a;
  --bg: #ffffff;
  --panel: #f6f8fa;
  --line: #d0d7de;
  --alive: #1a7f37;
  --suspect: #9a6700;
  --failed: #cf222e;
  --left: #57606a;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--fg);
  background: var(--bg);
}
body { margin: 0; }
header { display: flex; align-items: baseline; gap: 1.5rem; padding: 0.75rem 1.5rem; border-bottom: 1px solid var(--line); }
h1 { font-size: 1.25rem; margin: 0; }
h2 { font-size: 1rem; margin: 0 0 0.5rem; }
main { display: grid; grid-template-columns: repeat(auto-fit, minmax(34rem, 1fr)); gap: 1rem; padding: 1rem 1.5rem; }
section { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 0.75rem 1rem; min-width: 0; }
p { margin: 0 0 0.5rem; color: var(--muted); }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 0.25rem 0.5rem; border-bottom: 1px solid var(--line); }
th.num, td.num { text-align: right; }
td.num { white-space: nowrap; }
.chart { min-height: 220px; }
.state { font-weight: 600; }
.state::before { content: "●"; margin-right: 0.35em; }
.state-alive { color: var(--alive); }
.state-suspect { color: var(--suspect); }
.state-failed { color: var(--failed); }
.state-left { color: var(--left); }
tr[data-status="left"] td:not(.state), tr[data-status="failed"] td:not(.state) { color: var(--muted); }
#connection[data-state="open"] { color: var(--alive); }
#view-now[data-stable="true"] strong, #quorum-now[data-quorum="true"] strong { color: var(--alive); }
#view-now[data-stable="false"] strong { color: var(--suspect); }
#quorum-now[data-quorum="false"] strong { color: var(--failed); }
#connection[data-state="lost"] { color: var(--failed); }
#log { max-height: 14rem; overflow-y: auto; margin: 0; padding-left: 2.5rem; font-size: 0.9rem; }
#log time { color: var(--muted); margin-right: 0.5em; }
#log li[data-member-kind="failed"], #log li[data-member-kind="suspect"] { color: var(--failed); }
#served-by strong { color: var(--fg); }
tr[data-self="true"] th::after { content: " (this node)"; color: var(--muted); font-weight: normal; }
td.tags { font-size: 0.85rem; color: var(--muted); }
#kv-search { display: flex; gap: 0.5rem; align-items: center; margin-bottom: 0.5rem; }
#kv-prefix { flex: 1; font: inherit; padding: 0.2rem 0.4rem; }
#kv-keys { max-height: 10rem; overflow-y: auto; margin: 0 0 0.5rem; padding-left: 1.25rem; }
#kv-keys button { font: inherit; background: none; border: none; color: #0969da; cursor: pointer; padding: 0; text-align: left; }
#kv-keys button[aria-current="true"] { font-weight: 600; }
#kv-detail h3 { font-size: 0.95rem; margin: 0.5rem 0 0.25rem; overflow-wrap: anywhere; }
#kv-values { margin: 0 0 0.5rem; padding-left: 1.75rem; }
#kv-values pre { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
#kv-context { overflow-wrap: anywhere; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;
