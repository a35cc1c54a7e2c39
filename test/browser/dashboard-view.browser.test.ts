import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentProcess } from '../../src/cli/demo-cluster.js';
import type { AgentCluster } from './agent-cluster.js';
import { startAgentCluster } from './agent-cluster.js';
import { chromiumOrWarn } from './chromium.js';

const SUITE = 'dashboard membership view panel of a real 3-agent cluster in headless chromium';
const hasChromium = chromiumOrWarn(SUITE);
/** Where the run leaves its screenshot (git-ignored: every run writes a fresh one). */
const SCREENSHOT = fileURLToPath(new URL('./__screenshots__/dashboard-view.png', import.meta.url));
const WAIT_MS = 60_000;

describe.skipIf(!hasChromium)(SUITE, () => {
  let cluster: AgentCluster;
  let agents: readonly AgentProcess[] = [];
  let page: Page;
  let pageErrors: string[] = [];

  beforeAll(async () => {
    cluster = await startAgentCluster('gossip-dashboard-view-');
    ({ agents, page, pageErrors } = cluster);
  });

  afterAll(async () => {
    await cluster?.close();
  });

  it('shows the stable view (epoch, checksum as the API has it, 3 alive) with quorum; after two agents are killed, the missing member as disagreeing and quorum lost', async () => {
    const [node1, node2, node3] = agents;
    if (node1 === undefined || node2 === undefined || node3 === undefined) throw new Error('agents missing');
    await page.goto(`http://${node1.http}/`);
    await page.locator('#view-now[data-stable="true"]', { hasText: '3 members (3 alive)' }).waitFor({ timeout: WAIT_MS });
    await page.locator('#quorum-now[data-quorum="true"]').waitFor({ timeout: WAIT_MS });
    const api = await node2.api.call<{ current: { epoch: number; checksum: string }; stable: boolean }>('GET', '/v1/view');
    const text = (await page.locator('#view-now').textContent()) ?? '';
    // Every node of a stable cluster holds the same checksum: node2's API shows node1's page's.
    expect(text).toMatch(new RegExp(`^view stable: epoch \\d+, checksum ${api.current.checksum}, 3 members \\(3 alive\\)$`));
    expect(await page.locator('#quorum-now').textContent()).toMatch(/^quorum: 3 of 3 reachable, needs more than 1\.5 of stable view [0-9a-f]{8}$/);
    expect(await page.locator('#view-disagree-summary').textContent()).toBe('every live member holds this view');
    expect(await page.locator('#view-disagreeing').isHidden()).toBe(true);

    node3.kill();
    node2.kill();
    // While node1 still counts them live (suspect) they cannot report its view: listed as
    // disagreeing, and not reachable, so quorum is lost (1 of 3).
    await page.locator('#view-disagreeing tbody tr[data-name]').first().waitFor({ timeout: WAIT_MS });
    const rows = await page.locator('#view-disagreeing tbody tr').evaluateAll((trs) => trs.map((tr) => [(tr as HTMLElement).dataset.name, tr.querySelector('td')?.textContent]));
    expect(rows.length).toBeGreaterThan(0);
    for (const [name, checksum] of rows) {
      expect(['node2', 'node3']).toContain(name);
      expect(checksum).toMatch(/^([0-9a-f]{8}|not heard from)$/);
    }
    await page.locator('#quorum-now[data-quorum="false"]', { hasText: /^quorum lost: 1 of 3 reachable/ }).waitFor({ timeout: WAIT_MS });
    mkdirSync(join(SCREENSHOT, '..'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT.replace(/\.png$/, '-suspect.png'), fullPage: true });
    // Once both are failed the view is stable again, and the quorum stays lost (the basis is still the 3).
    await page.locator('#view-now[data-stable="true"]', { hasText: '3 members (1 alive, 2 failed)' }).waitFor({ timeout: WAIT_MS });
    expect(await page.locator('#quorum-now').getAttribute('data-quorum')).toBe('false');
    expect(await page.locator('#view-disagreeing').isHidden()).toBe(true);

    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(statSync(SCREENSHOT).size).toBeGreaterThan(10_000);
    expect(pageErrors).toEqual([]);
  });
});
