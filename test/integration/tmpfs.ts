import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A small tmpfs mounted for a test (a real full disk), or the reason it cannot be (not root, no
 * mount). Tests that need one skip loudly without it, and fail instead under `CI=true`.
 */
export function mountTmpfs(sizeBytes: number): { dir: string; unmount: () => void } | { reason: string } {
  const dir = mkdtempSync(join(tmpdir(), 'gossip-tmpfs-'));
  if (process.getuid?.() !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return { reason: 'not running as root: cannot mount a tmpfs' };
  }
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    return { reason: `mount -t tmpfs failed: ${e instanceof Error ? e.message : String(e)}` };
  }
  return {
    dir,
    unmount: () => {
      try {
        execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** Fills the file system holding `dir` with `<dir>/filler` until ENOSPC; returns the filler's path. */
export function fillDisk(dir: string): string {
  const path = join(dir, 'filler');
  const fd = openSync(path, 'a');
  const chunk = Buffer.alloc(4096, 0xaa);
  try {
    for (;;) {
      const left = statfsSync(dir).bavail * statfsSync(dir).bsize;
      writeSync(fd, left >= chunk.length ? chunk : chunk.subarray(0, Math.max(1, left)));
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    closeSync(fd);
  }
  return path;
}

/** Registers a test that explains why it could not run: skipped loudly, or failed under CI. */
export function noTmpfs(reason: string, register: { skip: (name: string, fn: () => void) => void; fail: (name: string, fn: () => void) => void }): void {
  const what = `needs a real full disk (a tmpfs mounted as root): ${reason}`;
  if (process.env.CI === 'true') {
    register.fail(what, () => {
      throw new Error(`CI=true: the disk-full test must run, but it ${what}`);
    });
    return;
  }
  console.warn(`\n*** SKIPPED: the disk-full test ${what}. Run it as root (CI does). ***\n`);
  register.skip(what, () => undefined);
}
