import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import { resolveConfig } from '../../src/agent/config.js';
import { MemoryStore } from '../../src/store/index.js';
import type { LamportClocks, NodeSnapshot, SnapshotMember } from '../../src/store/state-store.js';
import { waitFor } from './wait.js';
import { freeAddr } from './free-addr.js';

const log = pino({ level: 'silent' });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A memory store that counts every write (issue 12: an idle agent writes nothing). */
class CountingStore extends MemoryStore {
  writes: string[] = [];
  override saveMeta(name: string, value: Uint8Array): void {
    this.writes.push(`meta ${name}`);
    super.saveMeta(name, value);
  }
  override saveMembers(members: readonly SnapshotMember[]): void {
    this.writes.push('members');
    super.saveMembers(members);
  }
  override saveClocks(c: LamportClocks): void {
    this.writes.push('clocks');
    super.saveClocks(c);
  }
  override saveIncarnation(n: number): void {
    this.writes.push('incarnation');
    super.saveIncarnation(n);
  }
  /** One write, named by its parts ("members + incarnation + clocks + meta agent.events"). */
  override saveSnapshot(s: NodeSnapshot): void {
    const parts = [s.members === undefined ? '' : 'members', s.incarnation === undefined ? '' : 'incarnation', s.clocks === undefined ? '' : 'clocks'];
    for (const [name] of s.meta ?? []) parts.push(`meta ${name}`);
    this.writes.push(parts.filter((p) => p !== '').join(' + '));
    super.saveSnapshot(s);
  }
}

afterEach(() => {
  vi.useRealTimers();
});

describe('an idle agent (issue 12: CPU per idle agent)', () => {
  it('writes nothing to its store and reads no member list in its snapshot rounds; the coordinate is saved at most every 10 minutes', async () => {
    const a = await Agent.start({ config: resolveConfig({ flags: { name: 'ia', bind: await freeAddr(), http: await freeAddr(), profile: 'local' } }), log, store: new MemoryStore() });
    const store = new CountingStore();
    const b = await Agent.start({ config: resolveConfig({ flags: { name: 'ib', bind: await freeAddr(), http: await freeAddr(), profile: 'local', join: [a.node.addr] } }), log, store, snapshotIntervalMs: 50 });
    try {
      await waitFor('ib to have saved ia in its snapshot', 5000, () => store.loadMembers().some((m) => m.name === 'ia'));
      await sleep(2000); // join intents and their clocks settle
      const members = vi.spyOn(b.node, 'members');
      store.writes = [];
      await sleep(1000); // some 20 snapshot rounds
      expect(store.writes).toEqual([]);
      expect(members).not.toHaveBeenCalled();

      // Half a minute later (the old coordinate period): still nothing written.
      vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 31_000 });
      await sleep(300);
      expect(store.writes).toEqual([]);
      // Ten minutes later: the coordinate, once.
      vi.setSystemTime(Date.now() + 10 * 60_000);
      await sleep(300);
      expect(store.writes).toEqual(['meta agent.coordinate']);

      // A member event: the list is read and saved again.
      vi.useRealTimers();
      await a.stop('leaving', true);
      await waitFor('ib to save a snapshot without ia', 10_000, () => !store.loadMembers().some((m) => m.name === 'ia'));
      expect(members).toHaveBeenCalled();
      // Saved in one write (one transaction, one fsync), never part by part.
      expect(store.writes).toContain('members + incarnation + clocks + meta agent.events');
      expect(store.writes.filter((w) => !w.includes(' + ') && w !== 'meta agent.coordinate')).toEqual([]);
    } finally {
      await b.stop('done', false);
      await a.stop('done', false);
    }
  }, 40_000);
});
