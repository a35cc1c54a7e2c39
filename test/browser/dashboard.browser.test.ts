import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MemberJson } from '../../src/dashboard/index.js';
import { CHROMIUM, CHROMIUM_FLAGS, chromiumOrWarn } from './chromium.js';
import { waitFor } from '../integration/wait.js';
import { FakeAgent } from './fake-agent.js';

const SUITE = 'dashboard in headless chromium';
const hasChromium = chromiumOrWarn(SUITE);
/** Where the run leaves its screenshot (git-ignored: every run writes a fresh one). */
const SCREENSHOT = fileURLToPath(new URL('./__screenshots__/dashboard.png', import.meta.url));
const WAIT_MS = 15_000;
/** The page's clock: faked and driven by the test, so rates and chart times are exact. */
const T0 = Date.UTC(2026, 10, 25, 6, 0, 0);
const RTT_MS = [0.4, 0.7, 1.2, 0.5, 2.6];
/** Round trips estimated from network coordinates (node1 is the agent itself: none). */
const ESTIMATED_MS = [undefined, 0.9, 1.4, 0.6, 3.1];

function fiveMembers(): MemberJson[] {
  return [1, 2, 3, 4, 5].map((i): MemberJson => {
    const est = ESTIMATED_MS[i - 1];
    return {
    name: `node${i}`,
    addr: '127.0.0.1',
    port: 7945 + i,
    status: 'alive',
    tags: { gc: '1' },
    incarnation: i === 3 ? 2 : 1,
    rttMs: RTT_MS[i - 1] ?? 0,
    ...(est !== undefined ? { estimatedRttMs: est } : {}),
    };
  });
}

/** /metrics as the agent writes it, with a per-type counter family beside the UDP totals. */
function metricsText(k: number): string {
  return [
    '# HELP gossip_packet_bytes_total UDP packet bytes, by direction',
    '# TYPE gossip_packet_bytes_total counter',
    `gossip_packet_bytes_total{direction="in"} ${1500 * k}`,
    `gossip_packet_bytes_total{direction="out"} ${1400 * k}`,
    '# TYPE gossip_message_bytes_total counter',
    `gossip_message_bytes_total{type="ping",direction="in"} ${120 * k}`,
    `gossip_message_bytes_total{type="ping",direction="out"} ${118 * k}`,
    `gossip_message_bytes_total{type="push-pull",direction="in"} ${2000 * Math.floor(k / 5)}`,
    `gossip_message_bytes_total{type="push-pull",direction="out"} ${1800 * Math.floor(k / 5)}`,
    `gossip_message_bytes_total{type="data",direction="out"} 4096`,
    '# TYPE gossip_members gauge',
    'gossip_members{status="alive"} 5',
    '',
  ].join('\n');
}

describe.skipIf(!hasChromium)(SUITE, () => {
  let agent: FakeAgent;
  let context: BrowserContext;
  let page: Page;
  let userDataDir: string;
  const pageErrors: string[] = [];
  const foreignRequests: string[] = [];

  /** Readings of /metrics the page has processed. */
  async function samples(): Promise<number> {
    return Number((await page.locator('#traffic').getAttribute('data-samples')) ?? 0);
  }

  /**
   * Advances the page's clock one second and waits until the page has processed one more reading
   * of /metrics. Once steady, each reading is taken exactly one (fake) second after the last.
   */
  async function tick(): Promise<void> {
    const before = await samples();
    await page.clock.runFor(1000);
    await waitFor('the page to read /metrics', WAIT_MS, async () => (await samples()) > before);
  }

  beforeAll(async () => {
    agent = await FakeAgent.start(fiveMembers());
    agent.metrics = metricsText(0);
    userDataDir = mkdtempSync(join(tmpdir(), 'gossip-dashboard-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_FLAGS,
      viewport: { width: 1280, height: 1100 },
      timezoneId: 'UTC',
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
    page.on('request', (r) => {
      if (!r.url().startsWith(agent.url)) foreignRequests.push(r.url());
    });
    await page.clock.install({ time: T0 });
  });

  afterAll(async () => {
    await context?.close();
    await agent?.stop();
    if (userDataDir !== undefined) rmSync(userDataDir, { recursive: true, force: true });
  });

  it('shows the cluster with each member state, incarnation and RTT, and goes live on the stream', async () => {
    await page.goto(agent.url);
    await page.locator('#connection[data-state="open"]').waitFor({ timeout: WAIT_MS });
    await page.locator('#members tbody tr[data-status="alive"]').nth(4).waitFor({ timeout: WAIT_MS });
    await page.clock.pauseAt(T0 + 10_000);
    expect(await page.locator('#members tbody tr').count()).toBe(5);
    expect(await page.locator('#members-summary').textContent()).toBe('5 members: 5 alive');
    expect(await page.locator('#members tbody tr[data-name="node3"] td').allTextContents()).toEqual(['127.0.0.1:7948', 'alive', '2', '1.2 ms', '1.4 ms']);
    expect(await page.locator('#members tbody tr[data-name="node1"] td').allTextContents()).toEqual(['127.0.0.1:7946', 'alive', '1', '0.4 ms', '–']);
    // One self-contained page: everything else it asked for is the agent's API.
    expect(new Set(agent.requests)).toEqual(new Set(['/', '/v1/members', '/v1/convergence', '/v1/stream', '/metrics']));
  });

  it('charts agreement, time to everyone and bytes per second by type', async () => {
    // Readings started before the pause settle in the first ticks; from then on one per second.
    for (let i = 0; i < 3; i++) await tick();
    for (let k = 1; k <= 30; k++) {
      agent.metrics = metricsText(k);
      agent.emit('convergence', { agreement: Math.min(1, 0.2 + k * 0.04), keys: 40 + k, timeToEveryoneMs: [180, 240, 210, 950, 260, 230, 300 + k], source: 'cluster' });
      await tick();
    }
    agent.emit('kv', { key: 'config/feature-x', cause: 'local', deleted: false });
    agent.emit('user-event', { name: 'deploy', payload: 'v1.2.3', ltime: 7 });
    await page.locator('#log li').nth(1).waitFor({ timeout: WAIT_MS });

    expect(await page.locator('#agreement-now').textContent()).toBe('100 % of alive members agree with this node (70 keys)');
    expect(await page.locator('#tte-now').textContent()).toBe('latest 330 ms, median 240 ms, max 950 ms over 7 recent updates');
    for (const id of ['agreement-chart', 'tte-chart', 'traffic-chart']) {
      expect(await page.locator(`#${id} canvas`).count()).toBe(1);
      expect(await page.locator(`#${id}`).getAttribute('aria-label')).toMatch(/\w+/);
    }
    // Per-type counters under their type label, the UDP totals under the metric's short name;
    // rates are the counters' increase over the last (fake) second.
    expect(await page.locator('#traffic-chart .u-legend .u-series .u-label').allTextContents()).toEqual(expect.arrayContaining(['data', 'packet', 'ping', 'push-pull']));
    const row = (type: string) => page.locator('#traffic tbody tr', { has: page.locator('th', { hasText: new RegExp(`^${type}$`) }) }).locator('td').allTextContents();
    expect(await row('packet')).toEqual(['1.5 KiB/s', '1.4 KiB/s']);
    expect(await row('ping')).toEqual(['120 B/s', '118 B/s']);
    expect(await row('push-pull')).toEqual(['2.0 KiB/s', '1.8 KiB/s']); // k = 30: the counter stepped from k = 29
    expect(await row('data')).toEqual(['0 B/s', '0 B/s']); // a counter that does not move
    // The page's clock: paused at T0 + 10 s, then 3 + 30 one-second ticks.
    expect(await page.locator('#log li').allTextContents()).toEqual(['06:00:43event deploy, 6 B (ltime 7)', '06:00:43wrote config/feature-x (local)']);
  });

  it('changes when a member leaves or fails, and saves a screenshot', async () => {
    // The agent's member events carry no RTT: the page keeps the last one it had.
    const node3: MemberJson = { name: 'node3', addr: '127.0.0.1', port: 7948, status: 'left', tags: { gc: '1' }, incarnation: 2 };
    agent.emit('member', { type: 'member-left', member: node3 });
    await page.locator('#members tbody tr[data-name="node3"][data-status="left"]').waitFor({ timeout: WAIT_MS });
    expect(await page.locator('#members-summary').textContent()).toBe('5 members: 4 alive, 1 left');
    expect(await page.locator('#members tbody tr[data-name="node3"] td').allTextContents()).toEqual(['127.0.0.1:7948', 'left', '2', '1.2 ms', '–']);
    // Left members sort last.
    expect(await page.locator('#members tbody tr').last().getAttribute('data-name')).toBe('node3');

    agent.emit('member', { type: 'member-suspected', name: 'node5' });
    await page.locator('#members tbody tr[data-name="node5"][data-status="suspect"]').waitFor({ timeout: WAIT_MS });
    expect(await page.locator('#members-summary').textContent()).toBe('5 members: 3 alive, 1 suspect, 1 left');
    agent.emit('member', { type: 'member-failed', member: { name: 'node5', addr: '127.0.0.1', port: 7950, status: 'failed', tags: {}, incarnation: null } });
    await page.locator('#members tbody tr[data-name="node5"][data-status="failed"]').waitFor({ timeout: WAIT_MS });
    expect(await page.locator('#members-summary').textContent()).toBe('5 members: 3 alive, 1 failed, 1 left');
    expect(await page.locator('#members tbody tr[data-name="node5"] td').allTextContents()).toEqual(['127.0.0.1:7950', 'failed', '–', '2.6 ms', '–']);

    agent.emit('member', { type: 'member-reaped', member: node3 });
    await page.locator('#members tbody tr[data-name="node3"]').waitFor({ state: 'detached', timeout: WAIT_MS });
    expect(await page.locator('#members-summary').textContent()).toBe('4 members: 3 alive, 1 failed');

    await page.clock.runFor(1000); // let uPlot draw whatever it deferred
    mkdirSync(join(SCREENSHOT, '..'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(statSync(SCREENSHOT).size).toBeGreaterThan(10_000);
    expect(pageErrors).toEqual([]);
    expect(foreignRequests).toEqual([]);
  });

  it('opened with ?token=, runs on the session cookie the agent sets, with the token gone from the address', async () => {
    agent.token = 'dashboard-token-0123456789';
    agent.convergence = { agreement: 0.5, live: 4, agreeing: 2, unknown: 1, keys: 3, timeToEveryoneMs: [], source: 'cluster' };
    const denied = await fetch(`${agent.url}v1/members`);
    expect(denied.status).toBe(401);
    const second = await context.newPage();
    try {
      const before = agent.targets.length;
      await second.goto(`${agent.url}?token=${agent.token}`);
      expect(second.url()).toBe(agent.url);
      await second.locator('#connection[data-state="open"]').waitFor({ timeout: WAIT_MS });
      // Every call after the page itself went without a token in its URL.
      const after = agent.targets.slice(before);
      expect(after[0]).toBe(`/?token=${agent.token}`);
      expect(after.slice(1).filter((t) => t.includes('token'))).toEqual([]);
      await second.locator('#members tbody tr').nth(4).waitFor({ timeout: WAIT_MS });
      expect(await second.locator('#members-summary').textContent()).toBe('5 members: 5 alive');
      expect(await second.locator('#agreement-now').textContent()).toBe('50 % of alive members agree with this node, 2 of 4 (1 not heard from) (3 keys)');
    } finally {
      await second.close();
      agent.token = null;
    }
  });
});
