/**
 * Stored XSS (issue 13, "confirmed to hold"): markup in a member's name, its tags, a user event
 * and a key, sent by a peer through the cluster, reaches the dashboard as text. Two real agents
 * (in-process); the page of one in chromium.
 */
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
import { freeAddr } from '../integration/free-addr.js';
import { CHROMIUM, CHROMIUM_FLAGS, chromiumOrWarn } from './chromium.js';

const SUITE = 'the dashboard renders what peers send as text (stored XSS)';
const hasChromium = chromiumOrWarn(SUITE);
const WAIT_MS = 15_000;
/** Markup that would run or show an element if it were parsed as HTML. */
const mark = (where: string): string => `<img src=x data-xss="${where}" onerror="document.body.dataset.xss='${where}'"><b data-xss="${where}">${where}</b>`;

describe.skipIf(!hasChromium)(SUITE, () => {
  let dir: string;
  let context: BrowserContext;
  let viewer: Agent;
  let hostile: Agent;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gossip-dashboard-xss-'));
    const log = pino({ level: 'silent' });
    viewer = await Agent.start({ config: resolveConfig({ flags: { name: 'viewer', bind: await freeAddr(), http: await freeAddr(), profile: 'local' } }), log, store: new MemoryStore(), dashboard: await loadDashboard() });
    hostile = await Agent.start({
      config: resolveConfig({ flags: { name: `name${mark('name')}`, bind: await freeAddr(), http: await freeAddr(), profile: 'local', tags: { [`tag${mark('tag-key')}`]: mark('tag-value') }, join: [viewer.node.addr] } }),
      log, store: new MemoryStore(),
    });
    context = await chromium.launchPersistentContext(join(dir, 'chromium'), { executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
  });

  afterAll(async () => {
    await context?.close();
    await hostile?.stop('test done', false);
    await viewer?.stop('test done', false);
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('a member name, tags, a user event and a key full of markup are shown as text: no element made, nothing run', async () => {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`http://${viewer.httpAddress}/`);
    await page.locator('#connection[data-state="open"]').waitFor({ timeout: WAIT_MS });
    await page.locator('#members tbody tr', { hasText: 'name<img' }).waitFor({ timeout: WAIT_MS });
    // Sent by the hostile peer, shown by the viewer's page as they arrive.
    await hostile.node.kv.put(`key${mark('key')}`, mark('value'));
    hostile.node.sendEvent(`ev${mark('event')}`.slice(0, 200), mark('payload').slice(0, 200));
    await page.locator('#log li', { hasText: 'key<img' }).waitFor({ timeout: WAIT_MS });
    await page.locator('#log li', { hasText: 'event ev<img' }).waitFor({ timeout: WAIT_MS });
    // The markup is there, as text, exactly as sent.
    expect(await page.locator('#members tbody tr', { hasText: 'name<img' }).locator('th').textContent()).toBe(`name${mark('name')}`);
    // No element came from it, and nothing ran (the onerror handler would mark the body).
    expect(await page.locator('[data-xss]').count()).toBe(0);
    expect(await page.evaluate(() => document.querySelectorAll('img, b').length)).toBe(0);
    expect(await page.evaluate(() => document.body.dataset.xss ?? null)).toBeNull();
    expect(errors).toEqual([]);
    await page.close();
  });
});
