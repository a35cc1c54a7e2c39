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
    // What the agent saw before the page opened: five joins, node4 failing and coming back.
    agent.timeline = [
      ...[1, 2, 3, 4, 5].map((i) => ({ atMs: T0 - 60_000 + i * 1000, name: `node${i}`, kind: 'joined' as const, addr: `127.0.0.1:${7945 + i}` })),
      { atMs: T0 - 30_000, name: 'node4', kind: 'suspect' },
      { atMs: T0 - 25_000, name: 'node4', kind: 'failed' },
      { atMs: T0 - 5_000, name: 'node4', kind: 'rejoined', addr: '127.0.0.1:7949' },
    ];
    agent.kv.set('config/feature-x', { key: 'config/feature-x', type: 'register', values: [{ enabled: true }], context: [{ origin: 'node1', counter: 3 }] });
    agent.kv.set('config/flags', { key: 'config/flags', type: 'register', values: ['blue', 'green'], context: [{ origin: 'node1', counter: 4 }, { origin: 'node2', counter: 2 }] });
    agent.kv.set('counters/hits', { key: 'counters/hits', type: 'counter', value: 42, context: [] });
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

  it('shows the node serving it, the cluster with each member state, tags, incarnation and RTT, the timeline so far, and goes live on the stream', async () => {
    await page.goto(agent.url);
    await page.locator('#connection[data-state="open"]').waitFor({ timeout: WAIT_MS });
    await page.locator('#members tbody tr[data-status="alive"]').nth(4).waitFor({ timeout: WAIT_MS });
    await page.clock.pauseAt(T0 + 10_000);
    expect(await page.locator('#members tbody tr').count()).toBe(5);
    expect(await page.locator('#members-summary').textContent()).toBe('5 members: 5 alive');
    expect(await page.locator('#members tbody tr[data-name="node3"] td').allTextContents()).toEqual(['127.0.0.1:7948', 'alive', 'gc=1', '2', '1.2 ms', '1.4 ms']);
    expect(await page.locator('#served-by').textContent()).toBe('served by node1 at 127.0.0.1:7946, version 0.0.0-fake');
    expect(await page.locator('#members tbody tr[data-self="true"]').getAttribute('data-name')).toBe('node1');
    // The membership timeline the agent kept before the page opened, newest on top.
    expect(await page.locator('#log li[data-member-kind]').allTextContents()).toEqual([
      '05:59:55node4 rejoined at 127.0.0.1:7949', '05:59:35node4 failed', '05:59:30node4 is suspected',
      '05:59:05node5 joined at 127.0.0.1:7950', '05:59:04node4 joined at 127.0.0.1:7949', '05:59:03node3 joined at 127.0.0.1:7948', '05:59:02node2 joined at 127.0.0.1:7947', '05:59:01node1 joined at 127.0.0.1:7946',
    ]);
    // The node serving the page has no estimate to itself.
    expect(await page.locator('#members tbody tr[data-name="node1"] td').allTextContents()).toEqual(['127.0.0.1:7946', 'alive', 'gc=1', '1', '0.4 ms', '–']);
    // One self-contained page: everything else it asked for is the agent's API.
    expect(new Set(agent.requests)).toEqual(new Set(['/', '/v1/info', '/v1/timeline', '/v1/kv', '/v1/members', '/v1/convergence', '/v1/view', '/v1/quorum', '/v1/stream', '/metrics']));
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
    expect((await page.locator('#log li').allTextContents()).slice(0, 2)).toEqual(['06:00:43event deploy, 6 B (ltime 7)', '06:00:43wrote config/feature-x (local)']);
  });

  it('browses keys: every key at first, a prefix search, a value, siblings and their context', async () => {
    await page.locator('#kv-keys button').nth(2).waitFor({ timeout: WAIT_MS });
    expect(await page.locator('#kv-summary').textContent()).toBe('3 keys');
    await page.locator('#kv-prefix').fill('config/');
    await page.locator('#kv-search button[type="submit"]').click();
    await page.locator('#kv-summary', { hasText: "2 keys under 'config/'" }).waitFor({ timeout: WAIT_MS });
    expect(await page.locator('#kv-keys button').allTextContents()).toEqual(['config/feature-x', 'config/flags']);
    await page.locator('#kv-keys button[data-key="config/feature-x"]').click();
    await page.locator('#kv-key', { hasText: 'config/feature-x' }).waitFor({ timeout: WAIT_MS });
    await page.locator('#kv-type', { hasText: /^value$/ }).waitFor({ timeout: WAIT_MS });
    expect(await page.locator('#kv-values li').allTextContents()).toEqual([JSON.stringify({ enabled: true }, null, 2)]);
    await page.locator('#kv-keys button[data-key="config/flags"]').click();
    await page.locator('#kv-type', { hasText: /^2 siblings/ }).waitFor({ timeout: WAIT_MS });
    expect(await page.locator('#kv-values li').allTextContents()).toEqual(['"blue"', '"green"']);
    expect(await page.locator('#kv-context').textContent()).toBe('[{"origin":"node1","counter":4},{"origin":"node2","counter":2}]');
    expect(await page.locator('#kv-keys button[aria-current="true"]').textContent()).toBe('config/flags');
    await page.locator('#kv-prefix').fill('nothing/');
    await page.locator('#kv-search button[type="submit"]').click();
    await page.locator('#kv-summary', { hasText: "no keys under 'nothing/'" }).waitFor({ timeout: WAIT_MS });
    await page.locator('#kv-prefix').fill('config/');
    await page.locator('#kv-search button[type="submit"]').click();
    await page.locator('#kv-keys button').nth(1).waitFor({ timeout: WAIT_MS });
  });

  it('changes when a member leaves or fails, and saves a screenshot', async () => {
    // The agent's member events carry no RTT: the page keeps the last one it had.
    const node3: MemberJson = { name: 'node3', addr: '127.0.0.1', port: 7948, status: 'left', tags: { gc: '1' }, incarnation: 2 };
    agent.emit('member', { type: 'member-left', member: node3 });
    await page.locator('#members tbody tr[data-name="node3"][data-status="left"]').waitFor({ timeout: WAIT_MS });
    expect(await page.locator('#members-summary').textContent()).toBe('5 members: 4 alive, 1 left');
    // A member that left has no round trip to show, probed or estimated.
    expect(await page.locator('#members tbody tr[data-name="node3"] td').allTextContents()).toEqual(['127.0.0.1:7948', 'left', 'gc=1', '2', '–', '–']);
    // Left members sort last.
    expect(await page.locator('#members tbody tr').last().getAttribute('data-name')).toBe('node3');

    agent.emit('member', { type: 'member-suspected', name: 'node5' });
    await page.locator('#members tbody tr[data-name="node5"][data-status="suspect"]').waitFor({ timeout: WAIT_MS });
    expect(await page.locator('#members-summary').textContent()).toBe('5 members: 3 alive, 1 suspect, 1 left');
    agent.emit('member', { type: 'member-failed', member: { name: 'node5', addr: '127.0.0.1', port: 7950, status: 'failed', tags: {}, incarnation: null } });
    await page.locator('#members tbody tr[data-name="node5"][data-status="failed"]').waitFor({ timeout: WAIT_MS });
    expect(await page.locator('#members-summary').textContent()).toBe('5 members: 3 alive, 1 failed, 1 left');
    // Nor does a failed one: its last probe's RTT says nothing now.
    expect(await page.locator('#members tbody tr[data-name="node5"] td').allTextContents()).toEqual(['127.0.0.1:7950', 'failed', '', '–', '–', '–']);

    agent.emit('member', { type: 'member-reaped', member: node3 });
    await page.locator('#members tbody tr[data-name="node3"]').waitFor({ state: 'detached', timeout: WAIT_MS });
    expect(await page.locator('#members-summary').textContent()).toBe('4 members: 3 alive, 1 failed');
    // node5 comes back: a rejoin on the timeline, after its suspicion and failure.
    agent.emit('member', { type: 'member-joined', member: { name: 'node5', addr: '127.0.0.1', port: 7950, status: 'alive', tags: { gc: '1' }, incarnation: 3 } });
    await page.locator('#members tbody tr[data-name="node5"][data-status="alive"]').waitFor({ timeout: WAIT_MS });
    expect((await page.locator('#log li[data-member-kind]').allTextContents()).slice(0, 5).map((t) => t.slice(8))).toEqual([
      'node5 rejoined at 127.0.0.1:7950', 'node3 was removed from the list', 'node5 failed', 'node5 is suspected', 'node3 left',
    ]);

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
