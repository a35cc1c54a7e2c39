import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/core/config.js';
import { address, incarnation, millis, nodeName } from '../../src/core/ids.js';
import type { AliveMsg, Message, MemberStatus } from '../../src/core/messages.js';
import { DEFAULT_VSN } from '../../src/core/messages.js';
import { GossipNode } from '../../src/core/membership/node.js';
import { seededRng } from '../../src/core/rng.js';
import { propertySeed } from './seed.js';

/**
 * The incarnation precedence rules (reference §6.4) against a model. Messages arrive 1 ms
 * apart, far inside every suspicion timeout, so only the rules decide the outcome.
 */
type Op = { kind: 'alive' | 'suspect' | 'dead'; inc: number; from: 'x' | 'y' | 'peer' };

const opArb: fc.Arbitrary<Op> = fc.record({
  kind: fc.constantFrom('alive' as const, 'suspect' as const, 'dead' as const),
  inc: fc.integer({ min: 1, max: 6 }),
  from: fc.constantFrom('x' as const, 'y' as const, 'peer' as const),
});

const ME = nodeName('me');
const PEER = nodeName('peer');
const peerAddr = address('127.0.0.2:7946');

function fresh(): GossipNode {
  const node = new GossipNode({ name: ME, addr: address('127.0.0.1:7946'), config: defaultConfig('lan'), rng: seededRng(1), now: millis(0) });
  const rec: AliveMsg = { type: 'alive', incarnation: incarnation(1), node: PEER, addr: peerAddr, meta: null, vsn: DEFAULT_VSN };
  node.restoreMembers(millis(0), [rec]);
  return node;
}

function toMessage(op: Op, about: string): Message {
  const node = nodeName(about);
  const inc = incarnation(op.inc);
  if (op.kind === 'alive') {
    return { type: 'alive', incarnation: inc, node, addr: about === 'peer' ? peerAddr : address('127.0.0.1:7946'), meta: null, vsn: DEFAULT_VSN };
  }
  const from = nodeName(op.from === 'peer' ? about : op.from);
  return { type: op.kind, incarnation: inc, node, from };
}

describe('incarnation precedence (fast-check model)', () => {
  it('a peer’s state follows the model: alive needs a higher incarnation, older suspect/dead never apply, dead/left is not resurrected by an equal alive', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 40 }), (ops) => {
        const node = fresh();
        let inc = 1;
        let state: MemberStatus = 'alive';
        let t = 1;
        for (const op of ops) {
          node.handlePacket(millis(t++), peerAddr, toMessage(op, 'peer'));
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
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 30 }), (ops) => {
        const node = fresh();
        let t = 1;
        for (const op of ops) {
          const before = node.incarnation as number;
          const msg = toMessage(op, 'me');
          node.handlePacket(millis(t++), peerAddr, msg);
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
