import fc from 'fast-check';
import type { Entry } from '../../../src/core/replica/index.js';
import { Replica } from '../../../src/core/replica/index.js';
import { nodeName } from '../../../src/core/ids.js';

// -0 travels as 0 (JSON text and MessagePack have no negative zero); ±∞ is no JSON value. The arbitraries avoid both.
const num = fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => (Object.is(d, -0) ? 0 : d)), fc.constant(2 ** 53 - 1), fc.constant(-(2 ** 40)));
const bytes = fc.uint8Array({ maxLength: 64 });

const text = (v: unknown): string => (typeof v === 'object' && v !== null && !(v instanceof Uint8Array) ? JSON.stringify(v) : String(v));

/** A replica's entries (node `n1`) after a random sequence of operations of every resolver type. */
export const replicaEntries = fc.array(
  fc.tuple(fc.constantFrom('lww/', 'mv/', 'cnt/', 'set/', 'map/'), fc.constantFrom('a', 'b', 'ç', '鍵'), fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), num, bytes, fc.boolean(), fc.dictionary(fc.string(), fc.integer(), { noNullPrototype: true })), fc.boolean()),
  { minLength: 1, maxLength: 30 },
).map((ops) => {
  const r = new Replica({
    node: nodeName('n1'),
    resolvers: { 'lww/': { type: 'lww' }, 'mv/': { type: 'siblings' }, 'cnt/': { type: 'pncounter' }, 'set/': { type: 'orset' }, 'map/': { type: 'ormap' } },
  });
  let now = 1;
  for (const [prefix, k, v, del] of ops) {
    const key = prefix + k;
    now += 7;
    switch (prefix) {
      case 'lww/':
      case 'mv/':
        if (del) r.delete(now, key);
        else r.put(now, key, v);
        break;
      case 'cnt/':
        if (del) r.decrement(now, key, 2);
        else r.increment(now, key, 3);
        break;
      case 'set/':
        if (del) r.remove(now, key, text(v));
        else r.add(now, key, text(v));
        break;
      case 'map/':
        if (del) r.mapRemoveField(now, key, 'f');
        else {
          r.mapSet(now, key, 'f', v);
          r.mapIncrement(now, key, 'n', 1);
          r.mapAdd(now, key, 's', text(v));
        }
        break;
    }
  }
  return [...r.keys()].map((k) => r.entry(k) as Entry);
});
