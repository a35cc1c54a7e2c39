import { describe, expect, it } from 'vitest';
import { MemberState } from '../../../../src/core/messages.js';
import {
  addressReclaimable, deadState, isUrgent, judgeAlive, judgeDead, judgeSelfAlive, judgeSuspect, refutingIncarnation,
} from '../../../../src/core/membership/state-rules.js';

/** memberlist's precedence rules (reference §6.4), one row per case. */

const { Alive, Suspect, Dead, Left } = { Alive: MemberState.Alive, Suspect: MemberState.Suspect, Dead: MemberState.Dead, Left: MemberState.Left };

describe('judgeAlive: an alive about another member', () => {
  it.each([
    { incoming: 0, known: null, verdict: 'ignore', why: 'an unknown member at incarnation 0 never started' },
    { incoming: 1, known: null, verdict: 'accept', why: 'a new member' },
    { incoming: 3, known: { state: Alive, incarnation: 3 }, verdict: 'ignore', why: 'same incarnation: old news' },
    { incoming: 2, known: { state: Suspect, incarnation: 3 }, verdict: 'ignore', why: 'older' },
    { incoming: 4, known: { state: Suspect, incarnation: 3 }, verdict: 'accept', why: 'a refutation of a suspicion' },
    { incoming: 4, known: { state: Dead, incarnation: 3 }, verdict: 'accept', why: 'back from the dead' },
    { incoming: 3, known: { state: Dead, incarnation: 3 }, verdict: 'ignore', why: 'dead at the same incarnation stays dead' },
  ] as const)('$incoming vs $known.state@$known.incarnation → $verdict ($why)', ({ incoming, known, verdict }) => {
    expect(judgeAlive(incoming, known)).toBe(verdict);
  });
});

describe('judgeSelfAlive: an alive about ourselves', () => {
  it.each([
    { incoming: 5, mine: 5, same: true, bootstrap: false, leaving: false, verdict: 'ignore', why: 'our own announcement echoed' },
    { incoming: 5, mine: 5, same: false, bootstrap: false, leaving: false, verdict: 'refute', why: 'same incarnation, other meta or versions' },
    { incoming: 4, mine: 5, same: false, bootstrap: false, leaving: false, verdict: 'ignore', why: 'an older life of ours' },
    { incoming: 6, mine: 5, same: true, bootstrap: false, leaving: false, verdict: 'refute', why: 'newer than ours' },
    { incoming: 6, mine: 5, same: false, bootstrap: true, leaving: false, verdict: 'ignore', why: 'at join' },
    { incoming: 6, mine: 5, same: false, bootstrap: false, leaving: true, verdict: 'ignore', why: 'while leaving' },
  ] as const)('$incoming vs mine $mine (same: $same) → $verdict ($why)', ({ incoming, mine, same, bootstrap, leaving, verdict }) => {
    expect(judgeSelfAlive(incoming, mine, same, bootstrap, leaving)).toBe(verdict);
  });
});

describe('judgeSuspect', () => {
  it.each([
    { incoming: 2, known: { state: Alive, incarnation: 3 }, suspected: false, self: false, leaving: false, verdict: 'ignore', why: 'older' },
    { incoming: 2, known: { state: Suspect, incarnation: 3 }, suspected: true, self: false, leaving: false, verdict: 'ignore', why: 'older, even when suspected' },
    { incoming: 3, known: { state: Suspect, incarnation: 3 }, suspected: true, self: false, leaving: false, verdict: 'confirm', why: 'another accuser' },
    { incoming: 3, known: { state: Alive, incarnation: 3 }, suspected: false, self: false, leaving: false, verdict: 'accept', why: 'same incarnation suspects an alive member' },
    { incoming: 4, known: { state: Alive, incarnation: 3 }, suspected: false, self: false, leaving: false, verdict: 'accept', why: 'newer' },
    { incoming: 4, known: { state: Dead, incarnation: 3 }, suspected: false, self: false, leaving: false, verdict: 'ignore', why: 'the dead are not suspected' },
    { incoming: 4, known: { state: Left, incarnation: 3 }, suspected: false, self: false, leaving: false, verdict: 'ignore', why: 'nor those who left' },
    { incoming: 3, known: { state: Alive, incarnation: 3 }, suspected: false, self: true, leaving: false, verdict: 'refute', why: 'us' },
    { incoming: 3, known: { state: Alive, incarnation: 3 }, suspected: false, self: true, leaving: true, verdict: 'ignore', why: 'us, leaving' },
    { incoming: 2, known: { state: Alive, incarnation: 3 }, suspected: false, self: true, leaving: false, verdict: 'correct', why: 'an older life of ours' },
    { incoming: 2, known: { state: Alive, incarnation: 3 }, suspected: false, self: true, leaving: true, verdict: 'ignore', why: 'an older life of ours, leaving' },
  ] as const)('$incoming vs $known.state@$known.incarnation → $verdict ($why)', ({ incoming, known, suspected, self, leaving, verdict }) => {
    expect(judgeSuspect(incoming, known, suspected, self, leaving)).toBe(verdict);
  });
});

describe('judgeDead', () => {
  it.each([
    { incoming: 2, known: { state: Alive, incarnation: 3 }, self: false, leaving: false, verdict: 'stale', why: 'older' },
    { incoming: 3, known: { state: Alive, incarnation: 3 }, self: false, leaving: false, verdict: 'accept', why: 'same incarnation kills' },
    { incoming: 4, known: { state: Suspect, incarnation: 3 }, self: false, leaving: false, verdict: 'accept', why: 'newer' },
    { incoming: 4, known: { state: Dead, incarnation: 3 }, self: false, leaving: false, verdict: 'ignore', why: 'already dead' },
    { incoming: 4, known: { state: Left, incarnation: 3 }, self: false, leaving: false, verdict: 'ignore', why: 'already left' },
    { incoming: 3, known: { state: Alive, incarnation: 3 }, self: true, leaving: false, verdict: 'refute', why: 'us' },
    { incoming: 3, known: { state: Alive, incarnation: 3 }, self: true, leaving: true, verdict: 'ignore', why: 'us, leaving' },
    { incoming: 2, known: { state: Alive, incarnation: 3 }, self: true, leaving: false, verdict: 'correct', why: 'an older life of ours' },
    { incoming: 2, known: { state: Alive, incarnation: 3 }, self: true, leaving: true, verdict: 'stale', why: 'an older life of ours, leaving' },
  ] as const)('$incoming vs $known.state@$known.incarnation → $verdict ($why)', ({ incoming, known, self, leaving, verdict }) => {
    expect(judgeDead(incoming, known, self, leaving)).toBe(verdict);
  });

  it('a dead from the member itself is a leave', () => {
    expect(deadState('a', 'a')).toBe(Left);
    expect(deadState('a', 'b')).toBe(Dead);
  });
});

describe('refutation and address takeover', () => {
  it.each([
    { mine: 1, accused: 1, next: 2 },
    { mine: 5, accused: 1, next: 6 },
    { mine: 1, accused: 9, next: 10 },
  ])('mine $mine, accused at $accused → $next', ({ mine, accused, next }) => {
    expect(refutingIncarnation(mine, accused)).toBe(next);
  });

  it.each([
    { state: Left, changedAtMs: 0, nowMs: 1, reclaimMs: 0, ok: true, why: 'a member that left frees its name' },
    { state: Dead, changedAtMs: 0, nowMs: 1_000_000, reclaimMs: 0, ok: false, why: 'reclaim disabled' },
    { state: Dead, changedAtMs: 0, nowMs: 1000, reclaimMs: 1000, ok: false, why: 'dead, not long enough' },
    { state: Dead, changedAtMs: 0, nowMs: 1001, reclaimMs: 1000, ok: true, why: 'dead long enough' },
    { state: Alive, changedAtMs: 0, nowMs: 1_000_000, reclaimMs: 1000, ok: false, why: 'alive: a conflict' },
    { state: Suspect, changedAtMs: 0, nowMs: 1_000_000, reclaimMs: 1000, ok: false, why: 'suspect: a conflict' },
  ])('$why', ({ state, changedAtMs, nowMs, reclaimMs, ok }) => {
    expect(addressReclaimable(state, changedAtMs, nowMs, reclaimMs)).toBe(ok);
  });

  it('suspicions, deaths and incarnation bumps are urgent gossip; a first alive is not', () => {
    expect(isUrgent('alive', 1)).toBe(false);
    expect(isUrgent('alive', 2)).toBe(true);
    expect(isUrgent('suspect', 1)).toBe(true);
    expect(isUrgent('dead', 1)).toBe(true);
  });
});
