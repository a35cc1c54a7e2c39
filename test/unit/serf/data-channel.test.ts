import { describe, expect, it } from 'vitest';
import { DEFAULT_SERF_CONFIG } from '../../../src/core/serf/config.js';
import type { SerfNode } from '../../../src/core/serf/index.js';
import { SerfCluster, bytes, codec, ofType, text, userPayloads } from './cluster.js';

describe('SerfNode: data-layer messages', () => {
  function mixed(): { c: SerfCluster; a: SerfNode; b: SerfNode; s: SerfNode } {
    const c = new SerfCluster();
    const a = c.add('a');
    const b = c.add('b');
    const s = c.add('serf-like', { serf: { dataTag: null } }); // advertises no data tag
    c.runFor(5);
    b.join(c.at(), [a.addr]);
    s.join(c.at(), [a.addr]);
    c.runFor(3000);
    return { c, a, b, s };
  }

  it('sendData reaches tagged members only; untagged or unknown members get nothing', () => {
    const { c, a, b, s } = mixed();
    expect(a.dataPeers().map((m) => m.name)).toEqual(['b']);
    expect(a.sendData(c.at(), 'b', 0x81, bytes('kv'))).toBe(true);
    expect(a.sendData(c.at(), 'serf-like', 0x81, bytes('kv'))).toBe(false);
    expect(a.sendData(c.at(), 'nobody', 0x81, bytes('kv'))).toBe(false);
    expect(() => a.sendData(c.at(), 'b', 0x09, bytes('kv'))).toThrow(/outside/);
    c.runFor(10);
    expect(ofType(c.eventsOf(b), 'data-message')).toEqual([{ type: 'data-message', from: a.addr, node: 'a', dataType: 0x81, payload: bytes('kv') }]);
    expect(ofType(c.eventsOf(s), 'data-message')).toHaveLength(0);
  });

  it('reliable data messages go over a stream', () => {
    const { c, a, b } = mixed();
    a.sendData(c.at(), 'b', 0x90, bytes('big'), true);
    c.runFor(10);
    expect(ofType(c.eventsOf(b), 'data-message').map((e) => e.dataType)).toEqual([0x90]);
  });

  it('data broadcasts ride only on packets to tagged members, never to a serf-like one', () => {
    const { c, a, b, s } = mixed();
    const from = c.packets.length;
    for (let i = 0; i < 20; i++) a.broadcastData(0x82, bytes(`update ${i}`));
    c.runFor(5000);
    const sent = c.packets.slice(from);
    const toS = sent.filter((p) => p.to === s.addr).flatMap((p) => userPayloads(p.message));
    expect(toS.some((u) => (u[0] ?? 0) >= 0x80)).toBe(false);
    expect(ofType(c.eventsOf(b), 'data-message').length).toBeGreaterThanOrEqual(20);
    expect(s.stats.unknownMessages).toBe(0);
  });

  it('push-pull carries the data state between tagged members only (after a join, and periodically)', () => {
    const c = new SerfCluster();
    const got: string[] = [];
    const state = (name: string) => ({
      localState: () => bytes(`state of ${name}`),
      mergeRemoteState: (_now: unknown, buf: Uint8Array) => got.push(`${name} <- ${text(buf)}`),
    });
    const a = c.add('a', { dataState: state('a') });
    const b = c.add('b', { dataState: state('b') });
    const s = c.add('s', { serf: { dataTag: null }, dataState: state('s') });
    c.runFor(5);
    b.join(c.at(), [a.addr]);
    // After the join (whose push-pull could not know a's tags), one more exchange carries it:
    // 10 to 20 gossip rounds later, once the join's gossip has spread.
    c.runFor(1900);
    expect(got).toEqual([]);
    c.runFor(2200);
    expect(got.sort()).toEqual(['a <- state of b', 'b <- state of a']);
    expect(ofType(c.eventsOf(b), 'join-completed')).toHaveLength(1);
    got.length = 0;
    c.runFor(65_000);
    expect(got).toContain('a <- state of b');
    expect(got).toContain('b <- state of a');
    got.length = 0;
    s.join(c.at(), [a.addr]);
    c.runFor(130_000);
    expect(got.length).toBeGreaterThan(0);
    expect(got.filter((g) => g.startsWith('s <-') || g.endsWith('of s'))).toEqual([]);
  });
});

describe('SerfNode: a push-pull with a data trailer', () => {
  it('decodes the remote state once on each side (the responder looks for the trailer before it answers, then merges the same bytes)', () => {
    const c = new SerfCluster();
    const decodes = new Map<string, number>();
    const counting = (name: string): typeof codec => ({
      ...codec,
      decode: (buf) => {
        const r = codec.decode(buf);
        if (r.ok && r.value.type === 'push-pull') decodes.set(name, (decodes.get(name) ?? 0) + 1);
        return r;
      },
    });
    const merged: string[] = [];
    const dataState = (name: string) => ({ localState: () => bytes(`state of ${name}`), mergeRemoteState: (_now: unknown, buf: Uint8Array) => void merged.push(`${name} <- ${text(buf)}`) });
    const a = c.add('a', { codec: counting('a'), dataState: dataState('a') });
    const b = c.add('b', { codec: counting('b'), dataState: dataState('b') });
    c.runFor(5);
    b.join(c.at(), [a.addr]);
    c.runFor(4100); // the join, and the follow-up push-pull that carries the trailers both ways
    expect(merged.sort()).toEqual(['a <- state of b', 'b <- state of a']);
    // Two push-pulls (the join, the follow-up), each decoded once by each side.
    expect(decodes).toEqual(new Map([['a', 2], ['b', 2]]));
  });
});

describe('SerfNode: the follow-up push-pull after a join', () => {
  it('brings a member that joined while the gossip could not reach us (not the periodic push-pull, 30 s or more away)', () => {
    const c = new SerfCluster();
    const dataState = { localState: () => bytes('s'), mergeRemoteState: () => undefined };
    const a = c.add('a', { dataState });
    const b = c.add('b', { dataState });
    const d = c.add('d', { dataState });
    c.runFor(5);
    b.join(c.at(), [a.addr]);
    c.runFor(50);
    // d joins through a while no packet reaches b, until d's alive has used up its retransmits.
    c.drop = (_from, to) => to === b.addr;
    d.join(c.at(), [a.addr]);
    c.runFor(1500);
    expect(b.members().some((m) => m.name === 'd')).toBe(false);
    c.drop = () => false;
    c.runFor(4500);
    expect(b.members().find((m) => m.name === 'd')?.status).toBe('alive');
  });
});

describe('SerfNode: the follow-up push-pull waits for the join storm to pass', () => {
  const dataState = { localState: () => bytes('s'), mergeRemoteState: () => undefined };
  /** a, b (which joins a at once), then `more` nodes joining a one every `gapMs`; b's member count followed every 10 ms; times in ms after b's join. */
  function storm(more: number, gapMs: number, tailMs: number): { c: SerfCluster; b: SerfNode; lastChange: number; followUps: number[] } {
    const c = new SerfCluster();
    const a = c.add('a', { dataState });
    const b = c.add('b', { dataState });
    const others = Array.from({ length: more }, (_, i) => c.add(`m${i}`, { dataState }));
    c.runFor(5);
    b.join(c.at(), [a.addr]);
    const joinedAt = c.now;
    let known = 0;
    let lastChange = c.now;
    const run = (ms: number): void => {
      for (let t = 0; t < ms; t += 10) {
        c.runFor(10);
        const k = b.members().length;
        if (k !== known) {
          known = k;
          lastChange = c.now;
        }
      }
    };
    for (const m of others) {
      m.join(c.at(), [a.addr]);
      run(gapMs);
    }
    run(tailMs);
    const followUps = c.streams.filter((s) => s.from === b.addr && s.type === 'push-pull' && s.at > joinedAt + 10).map((s) => s.at - joinedAt);
    return { c, b, lastChange: lastChange - joinedAt, followUps };
  }

  it('runs once the member table has been unchanged for 5 gossip rounds (1 s; then up to 2 s more at random), not while members are still arriving', () => {
    // Twelve more members, one every 400 ms: b learns members until about 4.5 s after its join,
    // past the 2–4 s the follow-up waits at least.
    const { b, lastChange, followUps } = storm(12, 400, 6000);
    expect(b.members().filter((m) => m.status === 'alive')).toHaveLength(14);
    expect(lastChange).toBeGreaterThan(4000);
    expect(followUps).toHaveLength(1);
    expect(followUps[0]).toBeGreaterThanOrEqual(lastChange + 1000);
    expect(followUps[0]).toBeLessThanOrEqual(lastChange + 3000 + 50);
  });

  it('runs 100 rounds (20 s) after the join at the latest, however long the members keep arriving', () => {
    const { followUps } = storm(50, 450, 1000);
    expect(followUps).toHaveLength(1);
    expect(followUps[0]).toBeGreaterThanOrEqual(20_000 - 50);
    expect(followUps[0]).toBeLessThanOrEqual(20_000 + 50);
  });
});

describe('SerfNode: the data peers list (cached until the member table changes)', () => {
  it('is the same array while nothing changes, and follows joins, failures, recoveries and leaves at once', () => {
    const c = new SerfCluster();
    const a = c.add('a');
    const b = c.add('b');
    const d = c.add('d');
    const s = c.add('serf-like', { serf: { dataTag: null } });
    const fresh = (): string[] => a.members().filter((m) => m.name !== 'a' && m.status === 'alive' && m.tags[DEFAULT_SERF_CONFIG.dataTag as string] !== undefined).map((m) => m.name).sort();
    const seen = new Set<string>();
    const check = (): void => {
      expect(a.dataPeers().map((m) => m.name).sort()).toEqual(fresh());
      seen.add(fresh().join(','));
    };
    c.runFor(5);
    check();
    b.join(c.at(), [a.addr]);
    s.join(c.at(), [a.addr]);
    for (let i = 0; i < 40; i++) {
      c.runFor(50);
      check();
    }
    const before = a.dataPeers();
    c.runFor(10);
    expect(a.dataPeers()).toBe(before);
    d.join(c.at(), [b.addr]);
    for (let i = 0; i < 40; i++) {
      c.runFor(50);
      check();
    }
    // b cut off: failed; then back: alive again; then d leaves.
    c.drop = (from, to) => from === b.addr || to === b.addr;
    for (let i = 0; i < 400; i++) {
      c.runFor(50);
      check();
    }
    c.drop = () => false;
    b.join(c.at(), [a.addr]);
    for (let i = 0; i < 100; i++) {
      c.runFor(50);
      check();
    }
    d.leave(c.at());
    for (let i = 0; i < 100; i++) {
      c.runFor(50);
      check();
    }
    // The scenario went through every shape of the list.
    expect([...seen]).toEqual(expect.arrayContaining(['', 'b', 'b,d', 'd', 'b']));
    expect(fresh()).toEqual(['b']);
  });
});
