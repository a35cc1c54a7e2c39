import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentProcess, defaultCli } from '../../src/cli/demo-cluster.js';
import { CHROMIUM, CHROMIUM_FLAGS, chromiumOrWarn } from './chromium.js';

const SUITE = 'dashboard of a real 3-agent cluster in headless chromium';
const hasChromium = chromiumOrWarn(SUITE);
/** Where the run leaves its screenshot (git-ignored: every run writes a fresh one). */
const SCREENSHOT = fileURLToPath(new URL('./__screenshots__/dashboard-agent.png', import.meta.url));
const WAIT_MS = 30_000;

describe.skipIf(!hasChromium)(SUITE, () => {
  const live = new Set<AgentProcess>();
  const agents: AgentProcess[] = [];
  let dir: string;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gossip-dashboard-agents-'));
    const start = (i: number, seeds: readonly string[]): Promise<AgentProcess> => {
      const dataDir = join(dir, `node${i}`);
      mkdirSync(dataDir);
      return AgentProcess.start(defaultCli(), `node${i}`, dataDir, ['--bind', '127.0.0.1:0', '--http', '127.0.0.1:0', ...seeds.flatMap((s) => ['--join', s])], live);
    };
    const first = await start(1, []);
    agents.push(first, ...(await Promise.all([start(2, [first.gossip]), start(3, [first.gossip])])));
    context = await chromium.launchPersistentContext(join(dir, 'chromium'), {
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
  });

  afterAll(async () => {
    await context?.close();
    await Promise.all([...live].map((a) => a.stop()));
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('shows the node serving it, the three members alive with the joins it saw before the page opened, then node3 as left after it leaves', async () => {
    const [node1, , node3] = agents;
    if (node1 === undefined || node3 === undefined) throw new Error('agents missing');
    await page.goto(`http://${node1.http}/`);
    await page.locator('#connection[data-state="open"]').waitFor({ timeout: WAIT_MS });
    await page.locator('#members tbody tr[data-status="alive"]').nth(2).waitFor({ timeout: WAIT_MS });
    expect(await page.locator('#members-summary').textContent()).toBe('3 members: 3 alive');
    expect((await page.locator('#members tbody th').allTextContents()).sort()).toEqual(['node1', 'node2', 'node3']);
    expect(await page.locator('#members tbody tr[data-name="node3"] td').first().textContent()).toBe(node3.gossip);
    expect(await page.locator('#served-by').textContent()).toMatch(new RegExp(`^served by node1 at ${node1.gossip.replace(/\./g, '\\.')}, version \\d`));
    expect(await page.locator('#members tbody tr[data-self="true"]').getAttribute('data-name')).toBe('node1');
    // The agent's timeline before the page opened: node2 and node3 joining node1 (backlog on load).
    const joins = await page.locator('#log li[data-member-kind="joined"]').allTextContents();
    expect(joins.some((t) => t.includes('node2 joined at'))).toBe(true);
    expect(joins.some((t) => t.includes('node3 joined at'))).toBe(true);

    await node1.api.call('PUT', '/v1/kv/dashboard/test', { value: 'seen' });
    await page.locator('#log li', { hasText: 'dashboard/test' }).waitFor({ timeout: WAIT_MS });
    // The key browser reads the agent's keys.
    await page.locator('#kv-prefix').fill('dashboard/');
    await page.locator('#kv-search button[type="submit"]').click();
    await page.locator('#kv-keys button[data-key="dashboard/test"]').click();
    await page.locator('#kv-type', { hasText: /^value$/ }).waitFor({ timeout: WAIT_MS });
    expect(await page.locator('#kv-values li').allTextContents()).toEqual(['"seen"']);
    expect(await page.locator('#kv-context').textContent()).toMatch(/^\[\{"origin":"[^"]+","counter":\d+\}\]$/);
    // Bytes per second from the agent's /metrics: two readings make the first rates.
    await page.locator('#traffic tbody tr').first().waitFor({ timeout: WAIT_MS });

    await node3.api.call('POST', '/v1/leave');
    await page.locator('#members tbody tr[data-name="node3"][data-status="left"]').waitFor({ timeout: WAIT_MS });
    expect(await page.locator('#members-summary').textContent()).toBe('3 members: 2 alive, 1 left');
    expect(await page.locator('#members tbody tr[data-name="node3"] td.num').last().textContent()).toBe('–');
    await page.locator('#log li[data-member-kind="left"]', { hasText: 'node3 left' }).waitFor({ timeout: WAIT_MS });
    await node3.exited;

    mkdirSync(join(SCREENSHOT, '..'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(statSync(SCREENSHOT).size).toBeGreaterThan(10_000);
    expect(pageErrors).toEqual([]);
  });
});
