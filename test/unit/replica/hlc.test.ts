import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareHlc, Hlc, HLC_COUNTER_MAX, packHlc } from '../../../src/core/replica/index.js';

describe('Hlc', () => {
  it.each([
    // [l, c before] physical → [l, c after]
    { l: 0, c: 0, pt: 100, want: [100, 0] },
    { l: 100, c: 0, pt: 100, want: [100, 1] },
    { l: 100, c: 5, pt: 90, want: [100, 6] }, // physical clock went back: counter moves
    { l: 100, c: 5, pt: 101, want: [101, 0] },
    { l: 100, c: HLC_COUNTER_MAX, pt: 100, want: [101, 0] }, // counter overflow advances l
  ])('tick from ($l, $c) at pt $pt → $want', ({ l, c, pt, want }) => {
    const h = new Hlc();
    h.l = l;
    h.c = c;
    h.tick(pt);
    expect([h.l, h.c]).toEqual(want);
  });

  it.each([
    // local (l, c), remote (rl, rc), pt → result
    { l: 100, c: 3, rl: 100, rc: 7, pt: 50, want: [100, 8] }, // tie on l: max counter + 1
    { l: 100, c: 3, rl: 90, rc: 7, pt: 50, want: [100, 4] }, // local l ahead
    { l: 100, c: 3, rl: 120, rc: 7, pt: 50, want: [120, 8] }, // remote ahead (within ε = 500)
    { l: 100, c: 3, rl: 120, rc: 7, pt: 200, want: [200, 0] }, // physical time ahead of both
  ])('observe ($rl, $rc) at ($l, $c), pt $pt → $want', ({ l, c, rl, rc, pt, want }) => {
    const h = new Hlc(500);
    h.l = l;
    h.c = c;
    expect(h.observe(rl, rc, pt)).toBe(true);
    expect([h.l, h.c]).toEqual(want);
  });

  it('drift guard: refuses a remote l more than maxDriftMs ahead of pt, leaves the clock alone, counts it; accepts exactly maxDriftMs', () => {
    const h = new Hlc(500);
    h.tick(1000);
    expect(h.update({ l: 1501, c: 0 }, 1000)).toBeUndefined();
    expect([h.l, h.c, h.driftRejected, h.driftMaxMs]).toEqual([1000, 0, 1, 501]);
    expect(h.update({ l: 1500, c: 2 }, 1000)).toEqual({ l: 1500, c: 3 });
    expect(h.driftRejected).toBe(1);
    expect(() => new Hlc(-1)).toThrow(RangeError);
  });

  it('packs into 64 bits as 48-bit ms and 16-bit counter', () => {
    const out = new Uint32Array(2);
    packHlc({ l: 0x123456789abc, c: 0xdef0 }, out);
    expect([out[0], out[1]]).toEqual([0x12345678, 0x9abcdef0]);
  });

  it('property: timestamps are strictly monotonic whatever the physical clock does (jumps back, stalls) and whatever is received', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ recv: fc.boolean(), pt: fc.integer({ min: 0, max: 10_000 }), rl: fc.integer({ min: 0, max: 10_500 }), rc: fc.nat({ max: 20 }) }), { maxLength: 200, size: 'max' }),
        (events) => {
          const h = new Hlc(500);
          let pl = -1;
          let pc = 0;
          for (const e of events) {
            if (e.recv) {
              if (!h.observe(e.rl, e.rc, e.pt)) continue;
              expect(compareHlc(h.l, h.c, e.rl, e.rc)).toBeGreaterThan(0);
            } else h.tick(e.pt);
            expect(compareHlc(h.l, h.c, pl, pc)).toBeGreaterThan(0);
            expect(h.l).toBeGreaterThanOrEqual(e.pt);
            pl = h.l;
            pc = h.c;
          }
        },
      ),
    );
  });

  it('property: captures happens-before across nodes with skewed clocks: a receive is stamped after the send, and l − pt stays within the skew bound', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -200, max: 200 }), { minLength: 3, maxLength: 3, size: 'max' }),
        fc.array(fc.record({ from: fc.nat({ max: 2 }), to: fc.nat({ max: 2 }), dt: fc.nat({ max: 30 }) }), { maxLength: 150, size: 'max' }),
        (skews, msgs) => {
          const clocks = [new Hlc(500), new Hlc(500), new Hlc(500)];
          let t = 1000;
          for (const m of msgs) {
            t += m.dt;
            const s = clocks[m.from] as Hlc;
            const r = clocks[m.to] as Hlc;
            const sent = s.now(t + (skews[m.from] as number));
            const got = r.update(sent, t + (skews[m.to] as number));
            expect(got).toBeDefined();
            expect(compareHlc((got as { l: number }).l, (got as { c: number }).c, sent.l, sent.c)).toBeGreaterThan(0);
            // ε = max skew difference (400 ms) bounds how far l leads the receiver's physical clock.
            expect(r.l - (t + (skews[m.to] as number))).toBeLessThanOrEqual(400);
          }
        },
      ),
    );
  });
});
