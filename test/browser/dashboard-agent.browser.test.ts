import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentProcess } from '../../src/cli/demo-cluster.js';
import type { AgentCluster } from './agent-cluster.js';
import { startAgentCluster } from './agent-cluster.js';
import { chromiumOrWarn } from './chromium.js';

const SUITE = 'dashboard of a real 3-agent cluster in headless chromium';
const hasChromium = chromiumOrWarn(SUITE);
/** Where the run leaves its screenshot (git-ignored: every run writes a fresh one). */
const SCREENSHOT = fileURLToPath(new URL('./__screenshots__/dashboard-agent.png', import.meta.url));
const WAIT_MS = 30_000;

describe.skipIf(!hasChromium)(SUITE, () => {
  let cluster: AgentCluster;
  let agents: readonly AgentProcess[] = [];
  let page: Page;
  let pageErrors: string[] = [];

  beforeAll(async () => {
    cluster = await startAgentCluster('gossip-dashboard-agents-');
    ({ agents, page, pageErrors } = cluster);
  });

  afterAll(async () => {
    await cluster?.close();
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
