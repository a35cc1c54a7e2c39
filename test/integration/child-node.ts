/**
 * One of our nodes in its own process, so a test can SIGKILL it. Usage:
 *   node --import tsx test/integration/child-node.ts '{"name":"ts1","join":["127.0.0.1:7946"],...}'
 * Prints one JSON line `{"ready":true,"addr":"…"}` once joined, then serves until killed, or
 * leaves gracefully and exits on SIGTERM / a "leave" line on stdin.
 */
import { createInterface } from 'node:readline';
import { createNode } from '../../src/index.js';

interface ChildConfig {
  readonly name: string;
  readonly join: readonly string[];
  readonly tags?: Record<string, string>;
  readonly encryptKey?: string;
  readonly seed?: number;
  /** `host:port` to bind (the test picks a free port below 32768). */
  readonly bind: string;
}

const cfg = JSON.parse(process.argv[2] ?? '{}') as ChildConfig;
const node = await createNode({
  name: cfg.name,
  bind: cfg.bind,
  ...(cfg.tags ? { tags: cfg.tags } : {}),
  ...(cfg.encryptKey !== undefined ? { encryptKey: cfg.encryptKey } : {}),
  ...(cfg.seed !== undefined ? { seed: cfg.seed } : {}),
  logger: (level, line) => process.stderr.write(`[${level}] ${line}\n`),
});
await node.join(cfg.join);
process.stdout.write(`${JSON.stringify({ ready: true, addr: node.addr })}\n`);

const leave = async (): Promise<void> => {
  await node.leave();
  process.stdout.write(`${JSON.stringify({ left: true })}\n`);
  process.exit(0);
};
process.on('SIGTERM', () => void leave());
createInterface({ input: process.stdin })
  .on('line', (l) => {
    if (l.trim() === 'leave') void leave();
  })
  // The test process is gone: do not linger (as a crash: no leave).
  .on('close', () => process.exit(1));
