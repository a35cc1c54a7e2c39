import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import { resolveConfig } from '../../src/agent/config.js';
import { MemoryStore, SqliteStore } from '../../src/store/index.js';
import { waitFor } from './wait.js';

const dir = mkdtempSync(join(tmpdir(), 'gossip-snapshot-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const log = pino({ level: 'silent' });

describe('agent restart from its data directory', () => {
  it('rejoins through the membership snapshot without --join, above its old incarnation, with its writes', async () => {
    const a = await Agent.start({ config: resolveConfig({ flags: { name: 'sa', bind: '127.0.0.1:0', http: '127.0.0.1:0', profile: 'local' } }), log, store: new MemoryStore() });
    const flags = { name: 'sb', bind: '127.0.0.1:0', http: '127.0.0.1:0', profile: 'local', dataDir: join(dir, 'sb') };
    const b1 = await Agent.start({ config: resolveConfig({ flags: { ...flags, join: [a.node.addr] } }), log, snapshotIntervalMs: 100 });
    try {
      await b1.kv.put('durable', 'yes');
      await waitFor('the snapshot to hold sa', 5000, () => {
        const s = SqliteStore.open(join(dir, 'sb'));
        try {
          return s.loadMembers().some((m) => m.name === 'sa' && m.addr === a.node.addr);
        } finally {
          s.close();
        }
      });
      await b1.stop('restart', false);
      expect(b1.incarnation).toBe(1);

      // No --join this time: the snapshot is the only way back.
      const b2 = await Agent.start({ config: resolveConfig({ flags }), log });
      try {
        expect(b2.incarnation).toBe(2);
        expect(b2.kv.get('durable')).toMatchObject({ values: ['yes'] });
        await waitFor('sa to see sb alive again', 10_000, () => a.node.members().some((m) => m.name === 'sb' && m.status === 'alive' && m.addr === b2.node.addr));
        expect(a.node.memberIncarnation('sb')).toBeGreaterThanOrEqual(2);
      } finally {
        await b2.stop('done', false);
      }
    } finally {
      await b1.stop('done', false);
      await a.stop('done', false);
    }
  }, 30_000);
});
