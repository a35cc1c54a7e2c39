import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { HttpError } from '../../../src/agent/http-body.js';
import type { StreamSink } from '../../../src/agent/stream-hub.js';
import { StreamHub } from '../../../src/agent/stream-hub.js';

/** A response whose socket takes nothing until `drain()`: what a client that never reads looks like. */
class StuckSink extends EventEmitter implements StreamSink {
  queued = 0;
  written: string[] = [];
  ended = false;
  destroyed = false;
  get writableLength(): number {
    return this.queued;
  }
  write(chunk: string): boolean {
    this.written.push(chunk);
    this.queued += Buffer.byteLength(chunk);
    return false;
  }
  end(): void {
    this.ended = true;
  }
  destroy(): void {
    this.destroyed = true;
  }
  /** The client read everything. */
  drain(): void {
    this.queued = 0;
    this.emit('drain');
  }
}

function hub(now: { t: number }, o: { streamsMax?: number; queueBytesMax?: number; stallMs?: number } = {}): StreamHub {
  return new StreamHub({ streamsMax: o.streamsMax ?? 10, queueBytesMax: o.queueBytesMax ?? 1000, stallMs: o.stallMs ?? 30_000, convergenceMs: 60_000, convergence: () => ({}), now: () => now.t });
}

describe('StreamHub', () => {
  it('bounds what a reader that never reads holds: events past the limit are dropped and counted', () => {
    const now = { t: 0 };
    const h = hub(now);
    const slow = new StuckSink();
    h.add(slow, []);
    for (let i = 0; i < 10_000; i++) h.publish('kv', () => ({ key: `k${i}`, cause: 'local', deleted: false }));
    // At most the limit plus one event is queued, however many were published.
    expect(slow.queued).toBeLessThanOrEqual(1000 + 100);
    expect(h.stats().dropped).toBeGreaterThan(9_900);
    h.close();
  });

  it('tells a reader that caught up how many events it lost (event: lagged), then sends again', () => {
    const now = { t: 0 };
    const h = hub(now);
    const slow = new StuckSink();
    h.add(slow, []);
    for (let i = 0; i < 100; i++) h.publish('kv', () => ({ key: `k${i}` }));
    const sent = slow.written.length;
    slow.drain();
    const lagged = slow.written[sent];
    expect(lagged).toBe(`event: lagged\ndata: {"dropped":${100 - sent}}\n\n`);
    h.publish('kv', () => ({ key: 'after' }));
    expect(slow.written.at(-1)).toContain('"key":"after"');
    h.close();
  });

  it('disconnects a reader stuck over the limit for stallMs; a reader that keeps up is untouched', () => {
    const now = { t: 0 };
    const h = hub(now, { stallMs: 5000 });
    const slow = new StuckSink();
    const fast = new StuckSink();
    h.add(slow, []);
    h.add(fast, []);
    for (let i = 0; i < 50; i++) {
      now.t += 200;
      h.publish('kv', () => ({ key: `k${i}`, pad: 'x'.repeat(100) }));
      fast.drain();
    }
    expect(slow.destroyed).toBe(true);
    expect(fast.destroyed).toBe(false);
    expect(h.size).toBe(1);
    expect(h.stats().disconnected).toBe(1);
    h.close();
  });

  it('refuses a stream over streamsMax with a 503 that names the setting', () => {
    const h = hub({ t: 0 }, { streamsMax: 2 });
    h.admit();
    h.add(new StuckSink(), []);
    h.admit();
    const remove = h.add(new StuckSink(), []);
    expect(() => h.admit()).toThrow(HttpError);
    expect(() => h.admit()).toThrow(/too many streams open \(2, httpStreamsMax\)/);
    remove();
    expect(() => h.admit()).not.toThrow();
    expect(h.stats().refused).toBe(2);
    h.close();
  });

  it('computes an event once for every stream, and not at all with none open', () => {
    const h = hub({ t: 0 });
    let computed = 0;
    h.publish('kv', () => ++computed);
    expect(computed).toBe(0);
    const sinks = [new StuckSink(), new StuckSink(), new StuckSink()];
    for (const s of sinks) h.add(s, []);
    h.publish('kv', () => ++computed);
    expect(computed).toBe(1);
    expect(sinks.map((s) => s.written.length)).toEqual([1, 1, 1]);
    h.close();
  });

  it('sends a stream that named its events only those, and computes an event no stream wants not at all', () => {
    const h = hub({ t: 0 });
    const members = new StuckSink();
    const all = new StuckSink();
    h.add(members, [], new Set(['member']));
    let computed = 0;
    h.publish('kv', () => ++computed);
    expect(computed).toBe(0);
    h.add(all, []);
    h.publish('kv', () => ({ key: 'k' }));
    h.publish('member', () => ({ type: 'member-suspected', name: 'w' }));
    expect(members.written).toEqual(['event: member\ndata: {"type":"member-suspected","name":"w"}\n\n']);
    expect(all.written).toHaveLength(2);
    h.close();
  });
});
