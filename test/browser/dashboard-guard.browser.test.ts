import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { BrowserContext } from 'playwright-core';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import { resolveConfig } from '../../src/agent/config.js';
import { loadDashboard } from '../../src/agent/dashboard.js';
import { MemoryStore } from '../../src/store/index.js';
import { CHROMIUM, CHROMIUM_FLAGS, chromiumOrWarn } from './chromium.js';
import { freeAddr } from '../integration/free-addr.js';
import { freePort } from '../../src/clusterbench/ports.js';

const SUITE = 'the agent against a browser: session cookie, CSP, cross-site writes, DNS rebinding';
const hasChromium = chromiumOrWarn(SUITE);
const WAIT_MS = 15_000;
const TOKEN = 'browser-token-0123456789';
/** A name chromium resolves to 127.0.0.1 (--host-resolver-rules): a rebinding attacker's domain. */
const REBIND = 'rebind.attacker.test';

describe.skipIf(!hasChromium)(SUITE, () => {
  let dir: string;
  let context: BrowserContext;
  let guarded: Agent;
  let open: Agent;
  let attacker: http.Server;
  let attackerUrl: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gossip-dashboard-guard-'));
    const dashboard = await loadDashboard();
    const log = pino({ level: 'silent' });
    guarded = await Agent.start({ config: resolveConfig({ flags: { name: 'b-token', bind: await freeAddr(), http: await freeAddr(), profile: 'local', token: TOKEN } }), log, store: new MemoryStore(), dashboard });
    open = await Agent.start({ config: resolveConfig({ flags: { name: 'b-open', bind: await freeAddr(), http: await freeAddr(), profile: 'local' } }), log, store: new MemoryStore(), dashboard });
    // Another origin (another port): a page the operator happens to open.
    attacker = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>cats</title><p>cats</p>');
    });
    const attackerPort = await freePort();
    await new Promise<void>((resolve) => attacker.listen(attackerPort, '127.0.0.1', resolve));
    attackerUrl = `http://127.0.0.1:${attackerPort}/`;
    context = await chromium.launchPersistentContext(join(dir, 'chromium'), {
      executablePath: CHROMIUM,
      headless: true,
      args: [...CHROMIUM_FLAGS, `--host-resolver-rules=MAP ${REBIND} 127.0.0.1`],
    });
  });

  afterAll(async () => {
    await context?.close();
    await guarded?.stop('test done', false);
    await open?.stop('test done', false);
    attacker?.closeAllConnections();
    await new Promise<void>((resolve) => (attacker ? attacker.close(() => resolve()) : resolve()));
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('opened with ?token=, the dashboard runs on its session cookie under its CSP, the token gone from the address', async () => {
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
    const targets: string[] = [];
    page.on('request', (r) => targets.push(r.url()));
    const base = `http://${guarded.httpAddress}/`;
    await page.goto(`${base}?token=${TOKEN}`);
    expect(page.url()).toBe(base);
    await page.locator('#connection[data-state="open"]').waitFor({ timeout: WAIT_MS });
    await page.locator('#members tbody tr[data-name="b-token"]').waitFor({ timeout: WAIT_MS });
    await guarded.node.kv.put('seen/by/page', 1);
    await page.locator('#log li', { hasText: 'seen/by/page' }).waitFor({ timeout: WAIT_MS });
    await page.locator('#traffic tbody tr').first().waitFor({ timeout: WAIT_MS });
    expect(targets.slice(1).filter((t) => t.includes('token'))).toEqual([]);
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('a page of another origin cannot write through the agent (no-cors POST, PUT, form), even with no token', async () => {
    const page = await context.newPage();
    await page.goto(attackerUrl);
    const agentUrl = `http://${open.httpAddress}`;
    const key = Buffer.alloc(32, 9).toString('base64');
    await page.evaluate(async ([u, k]) => {
      const tries = [
        fetch(`${u}/v1/kv/attack`, { method: 'PUT', mode: 'no-cors', body: '{"value":"pwned"}' }),
        fetch(`${u}/v1/kv/attack2`, { method: 'PUT', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: '{"value":"pwned"}' }),
        fetch(`${u}/v1/keys/install`, { method: 'POST', mode: 'no-cors', body: JSON.stringify({ key: k }) }),
        fetch(`${u}/v1/leave`, { method: 'POST', mode: 'no-cors' }),
        // With the header that makes it "non-simple", the browser asks first (a preflight), which the agent never grants.
        fetch(`${u}/v1/kv/attack3`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"value":"pwned"}' }),
      ];
      await Promise.allSettled(tries);
    }, [agentUrl, key] as const);
    // A form post, the oldest way.
    await page.setContent(`<form method="post" action="${agentUrl}/v1/leave" enctype="text/plain"><input name='{"a":"' value='"}'></form>`);
    await Promise.all([page.waitForLoadState(), page.evaluate(() => document.forms[0]?.submit())]);
    await page.close();
    expect(open.node.kv.list('attack')).toEqual([]);
    const members = await fetch(`${agentUrl}/v1/members`);
    expect(members.status).toBe(200);
    expect(open.node.members().find((m) => m.name === 'b-open')?.status).toBe('alive');
  });

  it('a rebinding page (an attacker\'s name that resolves to the agent) cannot read the API', async () => {
    const page = await context.newPage();
    const port = open.httpAddress.slice(open.httpAddress.lastIndexOf(':') + 1);
    const res = await page.goto(`http://${REBIND}:${port}/v1/keys`);
    expect(res?.status()).toBe(403);
    expect(await page.textContent('body')).toMatch(/is not a name of this agent/);
    await page.close();
  });
});
