import { describe, expect, it } from 'vitest';
import type { Endpoint } from './virtual-net.js';
import { VirtualNet } from './virtual-net.js';

interface Msg {
  readonly to: string;
  readonly n: number;
}

/** A node that forwards what it gets to `next` (with n + 1) and wakes at its `wakeAt` deadlines. */
class Relay implements Endpoint<Msg, string> {
  readonly got: { at: number; n: number }[] = [];
  private readonly out: Msg[] = [];
  private readonly evs: string[] = [];
  constructor(readonly next: string | null, private wakeAt: number[] = []) {}
  receive(now: number, m: Msg): void {
    this.got.push({ at: now, n: m.n });
    this.evs.push(`got ${m.n}`);
    if (this.next !== null) this.out.push({ to: this.next, n: m.n + 1 });
  }
  send(m: Msg): void {
    this.out.push(m);
  }
  pollTransmit(): Msg | undefined {
    return this.out.shift();
  }
  pollEvent(): string | undefined {
    return this.evs.shift();
  }
  pollTimeout(): number | undefined {
    return this.wakeAt[0];
  }
  handleTimeout(now: number): void {
    this.wakeAt = this.wakeAt.filter((t) => t > now);
    this.evs.push(`woke ${now}`);
  }
}

function net(o: { latencyMs?: number; loss?: number; seed?: number; stepMs?: number } = {}): VirtualNet<Msg, string, Relay> {
  return new VirtualNet<Msg, string, Relay>({ ...o, route: (v, from, t) => void v.send(from, t.to, t, () => v.node(t.to).receive(v.now, t)) });
}

describe('the tests\' virtual network', () => {
  it('latency 0: a chain is delivered at once, inside the input', () => {
    const v = net();
    const a = v.add('a', new Relay('b'));
    v.add('b', new Relay('c'));
    const c = v.add('c', new Relay(null));
    v.input('a', (n) => n.send({ to: 'b', n: 1 }));
    expect(c.got).toEqual([{ at: 0, n: 2 }]);
    expect(a.got).toEqual([]);
    expect(v.events).toEqual([{ node: 'b', at: 0, e: 'got 1' }, { node: 'c', at: 0, e: 'got 2' }]);
  });

  it('latency: each hop takes latencyMs, and the clock ends where it was asked to', () => {
    const v = net({ latencyMs: 3 });
    v.add('a', new Relay('b'));
    v.add('b', new Relay('c'));
    const c = v.add('c', new Relay(null));
    v.input('a', (n) => n.send({ to: 'b', n: 1 }));
    v.runUntil(5);
    expect(c.got).toEqual([]);
    expect(v.now).toBe(5);
    v.runUntil(6);
    expect(c.got).toEqual([{ at: 6, n: 2 }]);
  });

  it('timers fire at their deadline, or at the next step with stepMs', () => {
    const plain = net();
    plain.add('a', new Relay(null, [2.5, 7]));
    plain.runUntil(10);
    expect(plain.events.map((e) => e.e)).toEqual(['woke 2.5', 'woke 7']);
    const stepped = net({ stepMs: 1 });
    stepped.add('a', new Relay(null, [2.5, 7]));
    stepped.runUntil(10);
    expect(stepped.events.map((e) => e.e)).toEqual(['woke 3', 'woke 7']);
  });

  it('a partition cuts links between groups until heal; remove drops what was on its way', () => {
    const v = net({ latencyMs: 1 });
    v.add('a', new Relay(null));
    const b = v.add('b', new Relay(null));
    v.partition({ a: 1 });
    v.input('a', (n) => n.send({ to: 'b', n: 1 }));
    v.runFor(5);
    expect(b.got).toEqual([]);
    v.heal();
    v.input('a', (n) => n.send({ to: 'b', n: 2 }));
    v.runFor(5);
    expect(b.got.map((g) => g.n)).toEqual([2]);
    v.input('a', (n) => n.send({ to: 'b', n: 3 }));
    v.remove('b');
    v.runFor(5);
    expect(b.got.map((g) => g.n)).toEqual([2]);
  });

  it('loss is drawn from the seeded Rng: the same seed loses the same messages', () => {
    const lost = (seed: number): number[] => {
      const v = net({ loss: 0.5, seed });
      v.add('a', new Relay(null));
      const b = v.add('b', new Relay(null));
      v.input('a', (n) => {
        for (let i = 0; i < 40; i++) n.send({ to: 'b', n: i });
      });
      const got = new Set(b.got.map((g) => g.n));
      return Array.from({ length: 40 }, (_, i) => i).filter((i) => !got.has(i));
    };
    expect(lost(3)).toEqual(lost(3));
    expect(lost(3).length).toBeGreaterThan(5);
    expect(lost(3).length).toBeLessThan(35);
    expect(lost(3)).not.toEqual(lost(4));
  });
});
