import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MemberJson } from '../../src/dashboard/index.js';
import { CHROMIUM, CHROMIUM_FLAGS, chromiumOrWarn } from './chromium.js';
import { FakeAgent } from './fake-agent.js';

const SUITE = 'dashboard in headless chromium';
const hasChromium = chromiumOrWarn(SUITE);
/** Where the run leaves its screenshot (git-ignored: every run writes a fresh one). */
export const SCREENSHOT = fileURLToPath(new URL('./__screenshots__/dashboard.png', import.meta.url));
const WAIT_MS = 15_000;

const RTT_MS = [0.4, 0.7, 1.2, 0.5, 2.6];

function fiveMembers(): MemberJson[] {
  return [1, 2, 3, 4, 5].map((i) => ({
    name: `node${i}`,
    addr: '127.0.0.1',
    port: 7945 + i,
    status: 'alive',
    tags: { gc: '1' },
    incarnation: i === 3 ? 2 : 1,
    rttMs: RTT_MS[i - 1] ?? 0,
  }));
}

describe.skipIf(!hasChromium)(SUITE, () => {
  let agent: FakeAgent;
  let context: BrowserContext;
  let page: Page;
  let userDataDir: string;
  const pageErrors: string[] = [];
  const foreignRequests: string[] = [];

  beforeAll(async () => {
    agent = await FakeAgent.start(fiveMembers());
    userDataDir = mkdtempSync(join(tmpdir(), 'gossip-dashboard-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_FLAGS,
      viewport: { width: 1280, height: 1100 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
    page.on('request', (r) => {
      if (!r.url().startsWith(agent.url)) foreignRequests.push(r.url());
    });
  });

  afterAll(async () => {
    await context?.close();
    await agent?.stop();
    if (userDataDir !== undefined) rmSync(userDataDir, { recursive: true, force: true });
  });

  it('shows the cluster with each member state and RTT, and goes live on the stream', async () => {
    await page.goto(agent.url);
    await page.locator('#connection[data-state="open"]').waitFor({ timeout: WAIT_MS });
    await page.locator('#members tbody tr[data-status="alive"]').nth(4).waitFor({ timeout: WAIT_MS });
    expect(await page.locator('#members tbody tr').count()).toBe(5);
    expect(await page.locator('#members-summary').textContent()).toBe('5 members: 5 alive');
    const row3 = page.locator('#members tbody tr[data-name="node3"]');
    expect(await row3.locator('td').allTextContents()).toEqual(['127.0.0.1:7948', 'alive', '2', '1.2 ms']);
    // The page asked the API for its data and loaded only its own assets.
    expect(agent.requests).toEqual(expect.arrayContaining(['/', '/dashboard/client.js', '/dashboard/uplot.iife.min.js', '/v1/members', '/v1/convergence', '/v1/stream']));
  });

  it('charts agreement, time to everyone and bytes per second from stream events', async () => {
    const t0 = Date.now() - 30_000;
    for (let i = 0; i <= 30; i++) {
      const atMs = t0 + i * 1000;
      const agreement = Math.min(1, 0.2 + i * 0.04);
      agent.emit('convergence', { agreement, keys: 40 + i, timeToEveryoneMs: [180, 240, 210, 950, 260, 230, 300 + i], source: 'cluster', atMs });
      const n = i + 1;
      agent.emit('traffic', {
        atMs,
        bytesIn: { ping: 120 * n, ack: 110 * n, 'push-pull': 2000 * Math.floor(n / 5), data: 900 * n + (i % 3) * 400 },
        bytesOut: { ping: 118 * n, ack: 112 * n, 'push-pull': 1800 * Math.floor(n / 5), data: 700 * n },
      });
    }
    agent.emit('update', { key: 'config/feature-x', deleted: false, cause: 'local', atMs: t0 + 29_000 });
    agent.emit('user-event', { name: 'deploy', payloadBytes: 12, atMs: t0 + 30_000 });
    // The last convergence event is the one with 70 keys; the log's second line is the last event sent.
    await page.locator('#agreement-now', { hasText: '(70 keys)' }).waitFor({ timeout: WAIT_MS });
    await page.locator('#log li').nth(1).waitFor({ timeout: WAIT_MS });
    expect(await page.locator('#agreement-now').textContent()).toBe('100 % of alive members agree with this node (70 keys)');
    expect(await page.locator('#tte-now').textContent()).toBe('latest 330 ms, median 240 ms, max 950 ms over 7 recent updates');
    for (const id of ['agreement-chart', 'tte-chart', 'traffic-chart']) {
      expect(await page.locator(`#${id} canvas`).count()).toBe(1);
      expect(await page.locator(`#${id}`).getAttribute('aria-label')).toMatch(/\w+/);
    }
    // One legend entry per message type in the traffic chart, and the last second's rates in the table.
    expect(await page.locator('#traffic-chart .u-legend .u-series .u-label').allTextContents()).toEqual(expect.arrayContaining(['ack', 'data', 'ping', 'push-pull']));
    expect(await page.locator('#traffic tbody tr').count()).toBe(4);
    expect(await page.locator('#traffic tbody tr', { hasText: 'ping' }).locator('td').allTextContents()).toEqual(['120 B/s', '118 B/s']);
    expect(await page.locator('#log li').allTextContents()).toEqual([expect.stringMatching(/event deploy, 12 B$/), expect.stringMatching(/wrote config\/feature-x \(local\)$/)]);
  });

  it('changes when a member leaves, and saves a screenshot', async () => {
    agent.setStatus('node3', 'left');
    await page.locator('#members tbody tr[data-name="node3"][data-status="left"]').waitFor({ timeout: WAIT_MS });
    expect(await page.locator('#members-summary').textContent()).toBe('5 members: 4 alive, 1 left');
    expect(await page.locator('#members tbody tr[data-name="node3"] td.state').textContent()).toBe('left');
    // Left members sort after the alive ones.
    expect(await page.locator('#members tbody tr').last().getAttribute('data-name')).toBe('node3');

    agent.setStatus('node5', 'failed');
    await page.locator('#members tbody tr[data-name="node5"][data-status="failed"]').waitFor({ timeout: WAIT_MS });
    expect(await page.locator('#members-summary').textContent()).toBe('5 members: 3 alive, 1 failed, 1 left');

    mkdirSync(join(SCREENSHOT, '..'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(statSync(SCREENSHOT).size).toBeGreaterThan(10_000);
    expect(pageErrors).toEqual([]);
    expect(foreignRequests).toEqual([]);
  });
});
