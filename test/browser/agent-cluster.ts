import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { AgentProcess, defaultCli } from '../../src/cli/demo-cluster.js';
import { CHROMIUM, CHROMIUM_FLAGS } from './chromium.js';
import { freeAddr } from '../integration/free-addr.js';

/**
 * Three real agents (node2 and node3 joined through node1) and a headless chromium page with
 * every page error and console error collected: what the real-cluster dashboard tests share.
 */
export interface AgentCluster {
  readonly agents: readonly AgentProcess[];
  readonly page: Page;
  readonly pageErrors: string[];
  close(): Promise<void>;
}

export async function startAgentCluster(dirPrefix: string): Promise<AgentCluster> {
  const live = new Set<AgentProcess>();
  const dir = mkdtempSync(join(tmpdir(), dirPrefix));
  let context: BrowserContext | undefined;
  const close = async (): Promise<void> => {
    await context?.close();
    await Promise.all([...live].map((a) => a.stop()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const start = async (i: number, seeds: readonly string[]): Promise<AgentProcess> => {
      const dataDir = join(dir, `node${i}`);
      mkdirSync(dataDir);
      return AgentProcess.start(defaultCli(), `node${i}`, dataDir, ['--bind', await freeAddr(), '--http', await freeAddr(), ...seeds.flatMap((s) => ['--join', s])], live);
    };
    const first = await start(1, []);
    const agents = [first, ...(await Promise.all([start(2, [first.gossip]), start(3, [first.gossip])]))];
    context = await chromium.launchPersistentContext(join(dir, 'chromium'), { executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS, viewport: { width: 1280, height: 1100 } });
    const page = context.pages()[0] ?? (await context.newPage());
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
    return { agents, page, pageErrors, close };
  } catch (e) {
    await close();
    throw e;
  }
}
