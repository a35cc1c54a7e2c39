import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { externalOrSkip } from '../external.js';

/** Debian's chromium, which playwright-core drives (no browser download). */
export const CHROMIUM = '/usr/bin/chromium';

/** The flags every run uses; playwright adds `--user-data-dir` from launchPersistentContext. */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Makes sure Debian's `chromium` is installed: present → true; missing and root → apt-get
 * install (after apt-get update); otherwise false, and the caller skips loudly. One worker
 * installs (holding a lock directory) while others wait for it.
 */
export function ensureChromium(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.getuid?.() !== 0) return false;
  const lock = join(tmpdir(), 'gossip-coordinator-chromium-install.lock');
  try {
    mkdirSync(lock);
  } catch {
    const until = Date.now() + 600_000;
    while (existsSync(lock) && !existsSync(CHROMIUM) && Date.now() < until) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
    return existsSync(CHROMIUM);
  }
  try {
    console.warn('chromium is missing: installing it with apt-get (the browser test needs a real Chromium)');
    execFileSync('apt-get', ['update'], { stdio: 'inherit', timeout: 300_000 });
    execFileSync('apt-get', ['install', '-y', 'chromium'], { stdio: 'inherit', timeout: 600_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  } catch (e) {
    console.warn(`apt-get install chromium failed: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    rmdirSync(lock);
  }
  return existsSync(CHROMIUM);
}

/** True when `suite` can run; a loud warning when it cannot, a failure under REQUIRE_EXTERNAL=1. */
export function chromiumOrWarn(suite: string): boolean {
  return externalOrSkip(`browser suite ${suite}`, CHROMIUM, ensureChromium(), 'run as root, or apt-get install chromium');
}
