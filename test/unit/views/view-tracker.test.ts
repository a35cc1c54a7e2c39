import { describe, expect, it } from 'vitest';
import type { ViewMember } from '../../../src/core/views/index.js';
import { behindView, canonicalMembers, ViewTracker, viewChecksum } from '../../../src/core/views/index.js';
import { decodeViewNote, encodeViewNote } from '../../../src/wire/view-note.js';
import { Cluster } from './harness.js';

const names = ['a', 'b', 'c', 'd', 'e'];
const m = (name: string, state: ViewMember['state'] = 'alive', incarnation = 1): ViewMember => ({ name, state, incarnation, tags: {} });

function stableCluster(): Cluster {
  const c = new Cluster(names);
  for (const n of names) c.set(n, 'alive');
  c.advance(1500);
  for (const n of names) expect(c.events(n)).toEqual(['view-changed', 'view-stable', 'quorum-regained']);
  return c;
}

describe('membership views', () => {
  it('checksum: the canonical form, whatever the order; state and incarnation count, tags do not', () => {
    const base = viewChecksum(canonicalMembers([m('b'), m('a'), m('c')]));
    expect(viewChecksum(canonicalMembers([m('c'), m('b'), m('a')]))).toBe(base);
    expect(viewChecksum(canonicalMembers([m('a'), m('b'), m('c', 'suspect')]))).not.toBe(base);
    expect(viewChecksum(canonicalMembers([m('a'), m('b'), m('c', 'alive', 2)]))).not.toBe(base);
    expect(viewChecksum(canonicalMembers([m('a'), m('b'), { ...m('c'), tags: { x: 'y' } }]))).toBe(base);
  });

  it('stable once every live member reported the checksum and nothing changed for the settle time; the epoch grows on each change', () => {
    const c = new Cluster(names, { settleMs: 1000 });
    for (const n of names) c.set(n, 'alive');
    c.advance(900);
    expect(c.get('a').isStable()).toBe(false);
    c.advance(200);
    for (const n of names) expect(c.get(n).isStable()).toBe(true);
    const epoch = c.get('a').view().epoch;
    c.set('c', 'suspect');
    c.exchange();
    expect(c.get('a').view().epoch).toBe(epoch + 1);
    expect(c.get('a').isStable()).toBe(false);
    expect(c.get('a').stableView()?.epoch).toBe(epoch);
  });

  it('a live member that never reports (here: unreachable to the others) keeps the view unstable, and is listed as disagreeing', () => {
    const c = new Cluster(names);
    c.side.set('e', 1);
    for (const n of names) c.set(n, 'alive');
    c.advance(3000);
    expect(c.get('a').isStable()).toBe(false);
    expect(c.get('a').disagreeing()).toEqual([{ name: 'e', checksum: null }]);
    // Once e is failed it no longer has to report.
    c.set('e', 'failed', 1, {}, ['a', 'b', 'c', 'd']);
    c.advance(1500);
    expect(c.get('a').isStable()).toBe(true);
  });

  it('a node whose records are behind a stable view is detected (the checker\'s contradiction)', () => {
    const c = stableCluster();
    const v = c.get('a').stableView();
    if (v === null) throw new Error('no stable view');
    expect(behindView(c.get('b').recordsView(), v)).toBeNull();
    const lagging = new ViewTracker({ name: 'x', now: 0 });
    lagging.handleMember(0, 'a', 'alive', 1);
    expect(behindView(lagging.recordsView(), v)).toMatch(/unknown/);
    lagging.handleMember(0, 'b', 'alive', 0);
    expect(behindView(new Map([['a', { state: 'alive' as const, incarnation: 0 }]]), v)).toMatch(/a alive\/0 < alive\/1/);
  });

  it('notes stop once everyone is settled (no traffic in a quiet cluster), and start again on a change', () => {
    const c = stableCluster();
    c.advance(6000);
    for (const n of names) expect(c.get(n).noteToSend(c.now)).toBeNull();
    c.set('e', 'suspect');
    expect(c.get('a').noteToSend(c.now)).not.toBeNull();
  });

  it('notesInMotion: false in a settled cluster (its host may skip gossip rounds), true from a change until its notes are spent', () => {
    const c = stableCluster();
    c.advance(6000);
    for (const n of names) expect(c.get(n).notesInMotion()).toBe(false);
    c.set('e', 'suspect');
    for (const n of names) expect(c.get(n).notesInMotion()).toBe(true); // records fed, not yet computed
    c.exchange();
    expect(c.get('a').notesInMotion()).toBe(true); // notes left to send
    // whenever a note is offered, notesInMotion said so
    for (let i = 0; i < 200; i++) {
      c.now += 100;
      for (const n of names) {
        const t = c.get(n);
        const moving = t.notesInMotion();
        if (t.noteToSend(c.now) !== null) expect(moving).toBe(true);
      }
      c.exchange();
    }
    for (const n of names) expect(c.get(n).notesInMotion()).toBe(false);
  });

  it('quorum: 3 of 5 keep it, 2 of 5 lose it, and the minority\'s own stable view (others failed) does not give it back; all regain after the heal', () => {
    const c = stableCluster();
    const major = ['a', 'b', 'c'];
    const minor = ['d', 'e'];
    for (const n of major) c.side.set(n, 0);
    for (const n of minor) c.side.set(n, 1);
    for (const n of minor) c.set(n, 'failed', 1, {}, major);
    for (const n of major) c.set(n, 'failed', 1, {}, minor);
    c.advance(3000);
    for (const n of major) {
      expect(c.events(n)).toEqual(['view-changed', 'view-stable']);
      expect(c.get(n).hasQuorum()).toBe(true);
    }
    for (const n of minor) {
      expect(c.events(n)).toEqual(['view-changed', 'quorum-lost', 'view-stable']);
      expect(c.get(n).hasQuorum()).toBe(false);
      expect(c.get(n).quorumStatus()).toMatchObject({ reachable: 2, total: 5 });
    }
    c.side.clear();
    for (const n of names) c.set(n, 'alive', 2);
    c.advance(3000);
    for (const n of minor) expect(c.events(n)).toEqual(['view-changed', 'quorum-regained', 'view-stable']);
    for (const n of names) expect(c.get(n).hasQuorum()).toBe(true);
  });

  it('quorum: once the minority forgets the failed majority its stable view is just itself, and still no quorum; the majority shrinks its basis', () => {
    const c = new Cluster(names, { forgetAfterMs: 5000 });
    for (const n of names) c.set(n, 'alive');
    c.advance(1500);
    const major = ['a', 'b', 'c'];
    const minor = ['d', 'e'];
    for (const n of minor) c.side.set(n, 1);
    for (const n of minor) c.set(n, 'failed', 1, {}, major);
    for (const n of major) c.set(n, 'failed', 1, {}, minor);
    c.advance(8000);
    for (const n of minor) {
      expect(c.get(n).view().members.map((x) => x.name)).toEqual(minor);
      expect(c.get(n).isStable()).toBe(true);
      expect(c.get(n).hasQuorum()).toBe(false);
    }
    for (const n of major) expect(c.get(n).quorumStatus()).toMatchObject({ hasQuorum: true, total: 3 });
  });

  it('quorum: a 2/2 split of 4 leaves nobody with it; a weight tag decides it', () => {
    const c = new Cluster(['a', 'b', 'c', 'd'], { weightTag: 'votes' });
    for (const n of ['a', 'b', 'c', 'd']) c.set(n, 'alive', 1, n === 'a' ? { votes: '2' } : {});
    c.advance(1500);
    // a weighs 2: {a, b} = 3 of 5.
    c.side.set('c', 1);
    c.side.set('d', 1);
    c.set('c', 'failed', 1, {}, ['a', 'b']);
    c.set('d', 'failed', 1, {}, ['a', 'b']);
    c.set('a', 'failed', 1, { votes: '2' }, ['c', 'd']);
    c.set('b', 'failed', 1, {}, ['c', 'd']);
    c.advance(100);
    expect(c.get('a').hasQuorum()).toBe(true);
    expect(c.get('c').hasQuorum()).toBe(false);
    const plain = new Cluster(['a', 'b', 'c', 'd']);
    for (const n of ['a', 'b', 'c', 'd']) plain.set(n, 'alive');
    plain.advance(1500);
    plain.set('c', 'suspect', 1, {}, ['a', 'b']);
    plain.set('d', 'suspect', 1, {}, ['a', 'b']);
    plain.set('a', 'suspect', 1, {}, ['c', 'd']);
    plain.set('b', 'suspect', 1, {}, ['c', 'd']);
    plain.advance(100);
    for (const n of ['a', 'b', 'c', 'd']) expect(plain.get(n).hasQuorum()).toBe(false);
  });

  it('a left member leaves the quorum basis; a failed one stays until forgotten', () => {
    const c = stableCluster();
    c.set('e', 'left');
    c.set('d', 'failed');
    c.advance(1500);
    expect(c.get('a').quorumStatus()).toMatchObject({ total: 4, reachable: 3, hasQuorum: true });
  });

  it('a note that never fits in a packet is asked for on its own after directAfterMs (a joiner whose packets are full of membership gossip)', () => {
    const t = new ViewTracker({ name: 'a', now: 0, directAfterMs: 1000, noteRetransmits: 3 });
    t.handleMember(0, 'a', 'alive', 1);
    t.handleMember(0, 'b', 'alive', 1);
    t.handleTimeout(0);
    // Not at once: a packet may carry it first.
    expect(t.directDue(0)).toBe(false);
    expect(t.pollTimeout()).toBe(1000);
    expect(t.directDue(1000)).toBe(true);
    t.noteSent(1000);
    expect(t.directDue(1500)).toBe(false);
    // Piggybacked notes keep it quiet; once the budget is spent nothing is due on its own.
    t.noteSent(1600);
    t.noteSent(1700);
    expect(t.directDue(60_000)).toBe(false);
  });

  it('notes per change are bounded: noteRetransmits after a change, then an incomplete view sends one now and then (gaps doubling), a complete one none', () => {
    const t = new ViewTracker({ name: 'a', now: 0, directAfterMs: 1000, noteRetransmits: 4 });
    t.handleMember(0, 'a', 'alive', 1);
    t.handleMember(0, 'b', 'alive', 1);
    t.handleTimeout(0);
    let sent = 0;
    const sends: number[] = [];
    // A packet goes out every 100 ms for 20 s; b never reports.
    for (let now = 0; now <= 20_000; now += 100) {
      if (t.noteToSend(now) === null) continue;
      t.noteSent(now);
      sent++;
      if (sent > 4) sends.push(now);
    }
    expect(sent).toBeLessThan(4 + 6);
    // The budget at most one per noteGapMs (200 ms): 0, 200, 400, 600; then gaps of 1, 2, 4, 8 s.
    expect(sends.slice(0, 4)).toEqual([1600, 3600, 7600, 15600]);
    // b reports: complete, stable, and silent after its budget.
    const v = t.view();
    t.handleNote(20_000, { from: 'b', checksum: v.checksum, size: 2, bits: new Uint8Array([0b10]) });
    for (let k = 0; k < 4; k++) t.noteSent(20_000);
    expect(t.noteToSend(25_000)).toBeNull();
  });

  it('a node with nothing left to send answers a peer whose note misses bits it has, directly; a peer as complete as we are gets nothing', () => {
    const t = new ViewTracker({ name: 'a', now: 0, noteRetransmits: 1, settleMs: 100 });
    for (const n of ['a', 'b', 'c']) t.handleMember(0, n, 'alive', 1);
    t.handleTimeout(0);
    const v = t.view();
    const idx = (n: string): number => v.members.findIndex((m) => m.name === n);
    const bit = (...ns: string[]): Uint8Array => new Uint8Array([ns.reduce((b, n) => b | (1 << idx(n)), 0)]);
    t.handleNote(10, { from: 'b', checksum: v.checksum, size: 3, bits: bit('b') });
    // It learned b's bit: its budget is refilled, no reply needed while notes go out anyway.
    expect(t.replyDue()).toBeNull();
    t.handleNote(20, { from: 'c', checksum: v.checksum, size: 3, bits: bit('c') });
    t.noteSent(30);
    expect(t.noteToSend(40)).toBeNull();
    t.handleNote(50, { from: 'b', checksum: v.checksum, size: 3, bits: bit('b', 'c') });
    expect(t.replyDue()).toBe('b');
    expect(t.pollTimeout()).toBeLessThanOrEqual(50);
    t.replySent(50);
    expect(t.replyDue()).toBeNull();
    t.handleNote(60, { from: 'c', checksum: v.checksum, size: 3, bits: bit('a', 'b', 'c') });
    expect(t.replyDue()).toBeNull();
  });

  it('forgets failed members after forgetAfterMs', () => {
    const t = new ViewTracker({ name: 'a', now: 0, forgetAfterMs: 10_000 });
    t.handleMember(0, 'a', 'alive', 1);
    t.handleMember(0, 'b', 'failed', 1);
    t.handleTimeout(0);
    expect(t.view().members).toHaveLength(2);
    expect(t.pollTimeout()).toBeLessThanOrEqual(10_000);
    t.handleTimeout(10_000);
    expect(t.view().members.map((x) => x.name)).toEqual(['a']);
  });

  it('malformed notes are refused: the tracker throws (the host counts), the wire decoder returns an error', () => {
    const t = new ViewTracker({ name: 'a', now: 0 });
    expect(() => t.handleNote(0, { from: 'b', checksum: 1, size: 9, bits: new Uint8Array(1) })).toThrow(/malformed/);
    const good = { from: 'b', checksum: 0xdeadbeef, size: 10, bits: new Uint8Array([0xff, 0x03]) };
    expect(decodeViewNote(encodeViewNote(good))).toEqual({ ok: true, value: good });
    expect(decodeViewNote(encodeViewNote({ ...good, bits: new Uint8Array([0xff, 0x07]) }))).toMatchObject({ ok: false, reason: 'malformed' });
    expect(decodeViewNote(encodeViewNote(good).subarray(0, 5))).toMatchObject({ ok: false, reason: 'truncated' });
    expect(decodeViewNote(new Uint8Array([1, 2, 3, 4, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]))).toMatchObject({ ok: false });
  });
});
