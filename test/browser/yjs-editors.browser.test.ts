/**
 * Two real chromium pages, each connected to a different agent, editing one `Y.Text` through a
 * textarea (issue 17): each sees the other's typing and presence. The page is served by the
 * test: a textarea and a script (yjs + y-websocket bundled with esbuild) that connects to
 * `ws://AGENT/v1/yjs/{doc}?token=…` (a browser's WebSocket sends no header: the token rides in
 * the query; the page's origin is not the agent's). Leaves test-results/yjs-editors.png.
 */
import { mkdirSync, statSync } from 'node:fs';
import type { Server } from 'node:http';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { pino } from 'pino';
import type { BrowserContext, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import { resolveConfig } from '../../src/agent/config.js';
import { MemoryStore } from '../../src/store/index.js';
import { CHROMIUM, CHROMIUM_FLAGS, chromiumOrWarn } from './chromium.js';

const SUITE = 'two chromium pages editing one Y.Text through two agents';
const hasChromium = chromiumOrWarn(SUITE);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCREENSHOT = fileURLToPath(new URL('../../test-results/yjs-editors.png', import.meta.url));
const TOKEN = 'b'.repeat(24);
const WAIT_MS = 60_000;

/** The page's script: a textarea bound to Y.Text 't' (edits as the diff of the value), and the names of the others present. */
const PAGE_SCRIPT = `
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
const q = new URLSearchParams(location.search);
const doc = new Y.Doc();
const text = doc.getText('t');
const provider = new WebsocketProvider('ws://' + q.get('agent') + '/v1/yjs', q.get('doc'), doc, { params: { token: q.get('token') }, disableBc: true });
provider.awareness.setLocalStateField('user', { name: q.get('user') });
document.getElementById('who').textContent = q.get('user') + ' on agent ' + q.get('agent') + ', document ' + q.get('doc');
const area = document.getElementById('editor');
const peers = document.getElementById('peers');
let shown = '';
area.addEventListener('input', () => {
  const next = area.value;
  let start = 0;
  while (start < shown.length && start < next.length && shown[start] === next[start]) start++;
  let endOld = shown.length, endNew = next.length;
  while (endOld > start && endNew > start && shown[endOld - 1] === next[endNew - 1]) { endOld--; endNew--; }
  doc.transact(() => {
    if (endOld > start) text.delete(start, endOld - start);
    if (endNew > start) text.insert(start, next.slice(start, endNew));
  });
  shown = next;
});
text.observe((e) => {
  if (e.transaction.local) return;
  const caret = area.selectionStart;
  shown = text.toString();
  area.value = shown;
  area.selectionStart = area.selectionEnd = Math.min(caret, shown.length);
});
provider.awareness.on('change', () => {
  const names = [...provider.awareness.getStates()].filter(([id]) => id !== doc.clientID).map(([, s]) => s.user?.name).filter(Boolean).sort();
  peers.textContent = names.join(',');
});
provider.on('sync', (s) => { if (s) document.body.dataset.synced = 'yes'; });
`;

const PAGE_HTML = `<!doctype html><html><head><meta charset="utf-8"><title>yjs through gossip</title>
<style>body{font:16px sans-serif;margin:16px} textarea{width:560px;height:160px;font:16px monospace}</style></head>
<body><h3 id="who"></h3><textarea id="editor"></textarea><p>others here: <span id="peers"></span></p>
<script src="/page.js"></script></body></html>`;

describe.skipIf(!hasChromium)(SUITE, () => {
  const agents: Agent[] = [];
  let server: Server;
  let pageOrigin = '';
  let context: BrowserContext;
  const errors: string[] = [];

  beforeAll(async () => {
    const start = async (name: string, join: string[]): Promise<Agent> => {
      const config = resolveConfig({ flags: { name, bind: '127.0.0.1:0', http: '127.0.0.1:0', token: TOKEN, profile: 'local', join } });
      const a = await Agent.start({ config, log: pino({ level: 'silent' }), store: new MemoryStore() });
      agents.push(a);
      return a;
    };
    const a = await start('ba', []);
    await start('bb', [a.node.addr]);
    const bundle = await build({ stdin: { contents: PAGE_SCRIPT, resolveDir: ROOT, loader: 'js' }, bundle: true, format: 'iife', platform: 'browser', write: false, logLevel: 'silent' });
    const js = bundle.outputFiles[0]?.text ?? '';
    server = createServer((req, res) => {
      if (req.url?.startsWith('/page.js') === true) res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
      else res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE_HTML);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const addr = server.address();
    pageOrigin = typeof addr === 'object' && addr !== null ? `http://127.0.0.1:${addr.port}` : '';
    context = await chromium.launchPersistentContext('', { executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS, viewport: { width: 640, height: 320 } });
  });

  afterAll(async () => {
    await context?.close();
    server?.close();
    for (const a of agents) await a.stop('test done', false);
  });

  const open = async (agent: Agent, user: string): Promise<Page> => {
    const page = await context.newPage();
    page.on('pageerror', (e) => errors.push(`${user}: ${e.message}`));
    await page.goto(`${pageOrigin}/?agent=${agent.httpAddress}&doc=shared-note&token=${TOKEN}&user=${user}`);
    await page.locator('body[data-synced="yes"]').waitFor({ timeout: WAIT_MS });
    return page;
  };

  it('each page sees the other\'s typing and presence', async () => {
    const [a, b] = agents;
    const pa = await open(a!, 'alice');
    const pb = await open(b!, 'bob');
    await pa.locator('#editor').pressSequentially('hello from alice. ', { delay: 10 });
    await pb.waitForFunction(() => (document.getElementById('editor') as unknown as { value: string }).value.includes('hello from alice.'), undefined, { timeout: WAIT_MS });
    await pb.locator('#editor').focus();
    await pb.keyboard.press('End');
    await pb.locator('#editor').pressSequentially('and bob answers.', { delay: 10 });
    const both = 'hello from alice. and bob answers.';
    await pa.waitForFunction((t) => (document.getElementById('editor') as unknown as { value: string }).value === t, both, { timeout: WAIT_MS });
    expect(await pb.locator('#editor').inputValue()).toBe(both);
    await pa.locator('#peers', { hasText: 'bob' }).waitFor({ timeout: WAIT_MS });
    await pb.locator('#peers', { hasText: 'alice' }).waitFor({ timeout: WAIT_MS });
    mkdirSync(fileURLToPath(new URL('../../test-results/', import.meta.url)), { recursive: true });
    await pa.screenshot({ path: SCREENSHOT });
    expect(statSync(SCREENSHOT).size).toBeGreaterThan(5000);
    expect(errors).toEqual([]);
  });
});
