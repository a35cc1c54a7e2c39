import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/core/config.js';
import type { NodeEvent } from '../../src/core/events.js';
import type { Address } from '../../src/core/ids.js';
import { address, incarnation, millis, nodeName } from '../../src/core/ids.js';
import type { AliveMsg, Message, MemberStatus } from '../../src/core/messages.js';
import { DEFAULT_VSN } from '../../src/core/messages.js';
import { GossipNode } from '../../src/core/membership/node.js';
import { seededRng } from '../../src/core/rng.js';
import { propertySeed } from './seed.js';

/**
 * Incarnation precedence (reference §6.4), checked against a small model.
 *
 * A node `me` hears random alive / suspect / dead messages (incarnations 1..5, random accusers)
 * about one peer `p`, plus random jumps of virtual time that may let a suspicion run out. The
 * peer answers every probe at once, so the only failure detector is the suspicion timer, which
 * the model knows: with 2 known members, k = 0 and the timeout is the fixed min of 4 s (§6.3).
 * Reaping is disabled (GossipToTheDeadTime huge) so dead/left members stay visible.
 */

const ME = nodeName('me');
const PEER = nodeName('p');
const meAddr = address('10.0.0.1:7946');
const peerAddr = address('10.0.0.2:7946');
const SUSPICION_MS = 4000; // reference §6.3: n ≤ 3 → fixed 4 s
const config = defaultConfig('lan', { gossipToTheDeadTimeMs: 1e12 });

type Accuser = 'x' | 'y' | 'me' | 'p';
type Op =
  | { readonly kind: 'alive'; readonly inc: number; readonly meta: boolean }
  | { readonly kind: 'suspect' | 'dead'; readonly inc: number; readonly from: Accuser }
  | { readonly kind: 'advance'; readonly ms: number };

const incArb = fc.integer({ min: 1, max: 5 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('alive' as const), inc: incArb, meta: fc.boolean() }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('suspect' as const), inc: incArb, from: fc.constantFrom<Accuser>('x', 'y', 'me', 'p') }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('dead' as const), inc: incArb, from: fc.constantFrom<Accuser>('x', 'y', 'me', 'p') }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 6000 }) }), weight: 2 },
);

function aliveMsg(name: typeof ME, addr: Address, inc: number, meta: boolean): AliveMsg {
  return { type: 'alive', incarnation: incarnation(inc), node: name, addr, meta: meta ? new Uint8Array([1]) : null, vsn: DEFAULT_VSN };
}

function toMessage(op: Exclude<Op, { kind: 'advance' }>, about: typeof ME, aboutAddr: Address): Message {
  if (op.kind === 'alive') return aliveMsg(about, aboutAddr, op.inc, op.meta);
  return { type: op.kind, incarnation: incarnation(op.inc), node: about, from: nodeName(op.from) };
}

/** Feeds one input and answers what the node sends: every ping to the peer is acked at once. */
/**
 * Time passes as a driver lets it: every timer handled when it falls due, then `now`. (A single
 * jump would hand the node its timers late, as a stalled event loop does, and Lifeguard then
 * defers a verdict once: probe.test.ts covers that.)
 */
function advanceTo(node: GossipNode, now: number): NodeEvent[] {
  const events: NodeEvent[] = [];
  for (let k = 0; k < 100_000; k++) {
    const t = node.pollTimeout();
    if (t === undefined || t >= now) break;
    events.push(...drive(node, t, (n) => n.handleTimeout(t)));
  }
  events.push(...drive(node, now, (n) => n.handleTimeout(millis(now))));
  return events;
}

function drive(node: GossipNode, now: number, input: (n: GossipNode) => void): NodeEvent[] {
  input(node);
  const events: NodeEvent[] = [];
  for (;;) {
    const t = node.pollTransmit();
    if (t === undefined) break;
    if (t.kind === 'packet' && t.to === peerAddr) {
      const ms = t.message.type === 'compound' ? t.message.parts : [t.message];
      for (const m of ms) if (m.type === 'ping') node.handlePacket(millis(now), peerAddr, { type: 'ack', seqNo: m.seqNo, payload: null });
    } else if (t.kind === 'stream') {
      node.handleStreamReply(millis(now), t.streamId, null); // push-pull or stream ping: refused
    }
  }
  for (let e = node.pollEvent(); e !== undefined; e = node.pollEvent()) events.push(e);
  return events;
}

type PeerState = MemberStatus | 'unknown';
interface Model {
  state: PeerState;
  inc: number;
  suspectSince: number;
}

/** The reference §6.4 rules for a message about another member; returns the expected event type. */
function step(m: Model, op: Op, now: number): string | null {
  switch (op.kind) {
    case 'alive':
      if (m.state === 'unknown') {
        Object.assign(m, { state: 'alive', inc: op.inc });
        return 'member-joined';
      }
      if (op.inc <= m.inc) return null;
      {
        const was = m.state;
        Object.assign(m, { state: 'alive', inc: op.inc });
        if (was === 'dead' || was === 'left') return 'member-joined';
        if (was === 'suspect') return 'member-recovered';
        return null; // alive → alive: only an update if Meta changed (checked separately)
      }
    case 'suspect':
      if (m.state === 'unknown' || op.inc < m.inc) return null;
      if (m.state !== 'alive') return null; // suspect already (a confirmation at most), dead or left
      Object.assign(m, { state: 'suspect', inc: op.inc, suspectSince: now });
      return 'member-suspected';
    case 'dead':
      if (m.state === 'unknown' || op.inc < m.inc) return null;
      if (m.state === 'dead' || m.state === 'left') return null;
      {
        const left = op.from === 'p';
        Object.assign(m, { state: left ? 'left' : 'dead', inc: op.inc });
        return left ? 'member-left' : 'member-failed';
      }
    case 'advance':
      if (m.state === 'suspect' && now >= m.suspectSince + SUSPICION_MS) {
        m.state = 'dead';
        return 'member-failed';
      }
      return null;
  }
}

const MEMBER_EVENTS = new Set(['member-joined', 'member-recovered', 'member-suspected', 'member-failed', 'member-left']);

describe('incarnation precedence about another member (fast-check, model-based)', () => {
  it('the node follows the §6.4 rules: state, incarnation and events match the model', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.array(opArb, { minLength: 1, maxLength: 50 }), (known, ops) => {
        const node = new GossipNode({ name: ME, addr: meAddr, config, rng: seededRng(11), now: millis(0) });
        const m: Model = { state: 'unknown', inc: 0, suspectSince: 0 };
        if (known) {
          drive(node, 0, (n) => n.restoreMembers(millis(0), [aliveMsg(PEER, peerAddr, 1, false)]));
          Object.assign(m, { state: 'alive', inc: 1 });
        }
        let now = 1;
        for (const op of ops) {
          now += op.kind === 'advance' ? op.ms : 1;
          const before = node.member('p');
          const prevMeta = before?.meta ?? null;
          const events = op.kind === 'advance' ? advanceTo(node, now) : drive(node, now, (n) => n.handlePacket(millis(now), peerAddr, toMessage(op, PEER, peerAddr)));
          const want = step(m, op, now);
          const after = node.member('p');
          // state and incarnation
          if (m.state === 'unknown') expect(after).toBeUndefined();
          else {
            expect(after?.status).toBe(m.state);
            expect(after?.incarnation).toBe(m.inc);
          }
          // events about the peer
          const got = events.filter((e) => MEMBER_EVENTS.has(e.type) && 'member' in e && e.member.name === 'p').map((e) => e.type);
          expect(got).toEqual(want === null ? [] : [want]);
          // member-updated (NotifyUpdate, §7) only when an accepted alive changed Meta of a member that
          // was not dead or left (those get member-joined instead)
          const updated = events.filter((e) => e.type === 'member-updated');
          const metaChanged = op.kind === 'alive' && (before?.status === 'alive' || before?.status === 'suspect') && before.incarnation < op.inc &&
            (prevMeta === null) !== !op.meta;
          expect(updated).toHaveLength(metaChanged ? 1 : 0);
          // we are never touched by messages about someone else
          expect(node.statusOf('me')).toBe('alive');
          expect(node.incarnation).toBe(1);
        }
      }),
      { seed: propertySeed(42), numRuns: 300 },
    );
  });

  it('invariants: the incarnation never decreases, older news never changes state, dead/left stays down unless a strictly newer alive arrives', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 60 }), (ops) => {
        const node = new GossipNode({ name: ME, addr: meAddr, config, rng: seededRng(5), now: millis(0) });
        drive(node, 0, (n) => n.restoreMembers(millis(0), [aliveMsg(PEER, peerAddr, 1, false)]));
        let now = 1;
        for (const op of ops) {
          now += op.kind === 'advance' ? op.ms : 1;
          const before = node.member('p');
          if (before === undefined) throw new Error('peer vanished');
          if (op.kind === 'advance') advanceTo(node, now);
          else drive(node, now, (n) => n.handlePacket(millis(now), peerAddr, toMessage(op, PEER, peerAddr)));
          const after = node.member('p');
          if (after === undefined) throw new Error('peer vanished');
          // never decreases
          expect(after.incarnation).toBeGreaterThanOrEqual(before.incarnation);
          if (op.kind === 'advance') {
            // only the suspicion timer acts: suspect → dead at the same incarnation
            expect(after.incarnation).toBe(before.incarnation);
            if (after.status !== before.status) expect([before.status, after.status]).toEqual(['suspect', 'dead']);
            continue;
          }
          // older news changes nothing
          if (op.inc < before.incarnation) expect(after).toEqual(before);
          // alive is accepted only with a strictly higher incarnation
          if (op.kind === 'alive' && op.inc <= before.incarnation) expect(after).toEqual(before);
          if (op.kind === 'alive' && op.inc > before.incarnation) {
            expect(after.status).toBe('alive');
            expect(after.incarnation).toBe(op.inc);
          }
          // dead/left is never resurrected by anything but a strictly newer alive
          if ((before.status === 'dead' || before.status === 'left') && after.status !== before.status) {
            expect(op.kind).toBe('alive');
            expect(op.inc).toBeGreaterThan(before.incarnation);
          }
          // suspect/dead never raise a member above what the message says
          if (op.kind !== 'alive' && after.incarnation !== before.incarnation) expect(after.incarnation).toBe(op.inc);
        }
      }),
      { seed: propertySeed(42), numRuns: 300 },
    );
  });
});

type SelfOp =
  | { readonly kind: 'suspect' | 'dead'; readonly inc: number; readonly from: 'x' | 'y' | 'p' | 'me' }
  | { readonly kind: 'alive'; readonly inc: number; readonly meta: boolean };

const selfOpArb: fc.Arbitrary<SelfOp> = fc.oneof(
  fc.record({ kind: fc.constantFrom('suspect' as const, 'dead' as const), inc: fc.integer({ min: 1, max: 8 }), from: fc.constantFrom('x' as const, 'y' as const, 'p' as const, 'me' as const) }),
  fc.record({ kind: fc.constant('alive' as const), inc: fc.integer({ min: 1, max: 8 }), meta: fc.boolean() }),
);

describe('accusations about oneself (fast-check)', () => {
  it('always refuted: alive, with incarnation max(mine + 1, accused + 1) > accused; otherwise unchanged', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.array(selfOpArb, { minLength: 1, maxLength: 40 }), (start, ops) => {
        const node = new GossipNode({ name: ME, addr: meAddr, config, rng: seededRng(3), now: millis(0), incarnation: start });
        drive(node, 0, (n) => n.restoreMembers(millis(0), [aliveMsg(PEER, peerAddr, 1, false)]));
        let mine = start;
        let maxAccused = 0;
        let refutations = 0;
        let now = 1;
        for (const op of ops) {
          now += 1;
          const events = drive(node, now, (n) => n.handlePacket(millis(now), peerAddr, toMessage(op, ME, meAddr)));
          const refuted = events.filter((e) => e.type === 'self-refuted');
          let expectRefute: boolean;
          if (op.kind === 'alive') {
            // §6.4 alive about myself: ignored when older, or equal with the same Meta and Vsn
            expectRefute = op.inc > mine || (op.inc === mine && op.meta);
          } else {
            maxAccused = Math.max(maxAccused, op.inc);
            expectRefute = op.inc >= mine;
          }
          if (expectRefute) {
            const next = Math.max(mine + 1, op.inc + 1);
            expect(refuted).toEqual([{ type: 'self-refuted', incarnation: next, accusedAt: op.inc, by: expect.any(String) as string }]);
            mine = next;
            refutations++;
          } else {
            expect(refuted).toEqual([]);
          }
          expect(node.incarnation).toBe(mine);
          expect(node.statusOf('me')).toBe('alive');
          expect(node.member('me')?.incarnation).toBe(mine);
          // whatever was said about us, we are now above it
          expect(node.incarnation).toBeGreaterThan(maxAccused);
          // the peer is untouched
          expect(node.statusOf('p')).toBe('alive');
        }
        expect(node.stats.refutations).toBe(refutations);
        // Lifeguard: +1 per refutation, clamped to [0, 7] (§6.2); no probe ran, so nothing lowered it
        expect(node.healthScore).toBe(Math.min(refutations, config.awarenessMaxMultiplier - 1));
      }),
      { seed: propertySeed(42), numRuns: 300 },
    );
  });

  it('mixed with time: a suspicion about oneself never turns into death, however long we wait', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(selfOpArb, fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 8000 }) })), { minLength: 1, maxLength: 40 }),
        (ops) => {
          const node = new GossipNode({ name: ME, addr: meAddr, config, rng: seededRng(9), now: millis(0) });
          drive(node, 0, (n) => n.restoreMembers(millis(0), [aliveMsg(PEER, peerAddr, 1, false)]));
          let now = 1;
          let maxAccused = 0;
          let prev = node.incarnation as number;
          for (const op of ops) {
            if (op.kind === 'advance') {
              now += op.ms;
              drive(node, now, (n) => n.handleTimeout(millis(now)));
            } else {
              now += 1;
              if (op.kind !== 'alive') maxAccused = Math.max(maxAccused, op.inc);
              drive(node, now, (n) => n.handlePacket(millis(now), peerAddr, toMessage(op, ME, meAddr)));
            }
            expect(node.statusOf('me')).toBe('alive');
            expect(node.incarnation).toBeGreaterThan(maxAccused);
            expect(node.incarnation).toBeGreaterThanOrEqual(prev);
            expect(node.isStopped).toBe(false);
            prev = node.incarnation;
          }
        },
      ),
      { seed: propertySeed(42), numRuns: 200 },
    );
  });
});

// ====================================================================== the rules alone

/**
 * The incarnation precedence rules (reference §6.4) against a model. Messages arrive 1 ms
 * apart, far inside every suspicion timeout, so only the rules decide the outcome.
 */
type RuleOp = { kind: 'alive' | 'suspect' | 'dead'; inc: number; from: 'x' | 'y' | 'peer' };

const ruleOpArb: fc.Arbitrary<RuleOp> = fc.record({
  kind: fc.constantFrom('alive' as const, 'suspect' as const, 'dead' as const),
  inc: fc.integer({ min: 1, max: 6 }),
  from: fc.constantFrom('x' as const, 'y' as const, 'peer' as const),
});

const RULE_PEER = nodeName('peer');
const rulePeerAddr = address('127.0.0.2:7946');

function withPeer(): GossipNode {
  const node = new GossipNode({ name: ME, addr: address('127.0.0.1:7946'), config: defaultConfig('lan'), rng: seededRng(1), now: millis(0) });
  const rec: AliveMsg = { type: 'alive', incarnation: incarnation(1), node: RULE_PEER, addr: rulePeerAddr, meta: null, vsn: DEFAULT_VSN };
  node.restoreMembers(millis(0), [rec]);
  return node;
}

function ruleMessage(op: RuleOp, about: string): Message {
  const node = nodeName(about);
  const inc = incarnation(op.inc);
  if (op.kind === 'alive') {
    return { type: 'alive', incarnation: inc, node, addr: about === 'peer' ? rulePeerAddr : address('127.0.0.1:7946'), meta: null, vsn: DEFAULT_VSN };
  }
  const from = nodeName(op.from === 'peer' ? about : op.from);
  return { type: op.kind, incarnation: inc, node, from };
}

describe('incarnation precedence (fast-check model)', () => {
  it('a peer’s state follows the model: alive needs a higher incarnation, older suspect/dead never apply, dead/left is not resurrected by an equal alive', () => {
    fc.assert(
      fc.property(fc.array(ruleOpArb, { minLength: 1, maxLength: 40 }), (ops) => {
        const node = withPeer();
        let inc = 1;
        let state: MemberStatus = 'alive';
        let t = 1;
        for (const op of ops) {
          node.handlePacket(millis(t++), rulePeerAddr, ruleMessage(op, 'peer'));
          if (op.kind === 'alive') {
            if (op.inc > inc) {
              inc = op.inc;
              state = 'alive';
            }
          } else if (op.kind === 'suspect') {
            if (op.inc >= inc && state === 'alive') {
              inc = op.inc;
              state = 'suspect';
            }
          } else if (op.inc >= inc && state !== 'dead' && state !== 'left') {
            inc = op.inc;
            state = op.from === 'peer' ? 'left' : 'dead';
          }
          const view = node.member('peer');
          expect(view?.status).toBe(state);
          expect(view?.incarnation).toBe(inc);
        }
      }),
      { seed: propertySeed(42), numRuns: 400 },
    );
  });

  it('accusations about ourselves are always refuted with a higher incarnation, and our incarnation never decreases', () => {
    fc.assert(
      fc.property(fc.array(ruleOpArb, { minLength: 1, maxLength: 30 }), (ops) => {
        const node = withPeer();
        let t = 1;
        for (const op of ops) {
          const before = node.incarnation as number;
          const msg = ruleMessage(op, 'me');
          node.handlePacket(millis(t++), rulePeerAddr, msg);
          const after = node.incarnation as number;
          expect(after).toBeGreaterThanOrEqual(before);
          expect(node.member('me')?.status).toBe('alive');
          if (op.kind !== 'alive') {
            // suspect/dead about me at an incarnation ≥ mine must be refuted above it
            if (op.inc >= before) expect(after).toBe(Math.max(before + 1, op.inc + 1));
            else expect(after).toBe(before);
          } else if (op.inc > before) {
            // someone announced a newer "me": refute above it
            expect(after).toBe(Math.max(before + 1, op.inc + 1));
          } else {
            expect(after).toBe(before);
          }
        }
      }),
      { seed: propertySeed(7), numRuns: 400 },
    );
  });
});
