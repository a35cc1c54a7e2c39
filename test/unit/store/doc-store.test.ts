/** The documents part of the store (`DocStore`): snapshot + tail per document, the same on SQLite and in memory. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AgentStore } from '../../../src/store/index.js';
import { MemoryStore, SqliteStore } from '../../../src/store/index.js';

const dir = mkdtempSync(join(tmpdir(), 'doc-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const b = (...xs: number[]): Uint8Array => new Uint8Array(xs);

describe.each([
  ['SqliteStore', (): AgentStore => SqliteStore.open(join(dir, `s${Math.floor(performance.now() * 1000)}`))],
  ['MemoryStore', (): AgentStore => new MemoryStore()],
])('%s as a DocStore', (_name, open) => {
  it('appends to a tail in order, compacts to one snapshot, lists its documents', () => {
    const s = open();
    expect(s.loadDoc('a')).toEqual({ snapshot: null, updates: [], tailBytes: 0 });
    s.appendDocUpdates([{ doc: 'a', update: b(1) }, { doc: 'b', update: b(2, 2) }, { doc: 'a', update: b(3, 3, 3) }]);
    expect(s.loadDoc('a')).toEqual({ snapshot: null, updates: [b(1), b(3, 3, 3)], tailBytes: 4 });
    s.compactDoc('a', b(9, 9));
    expect(s.loadDoc('a')).toEqual({ snapshot: b(9, 9), updates: [], tailBytes: 0 });
    s.appendDocUpdates([{ doc: 'a', update: b(4) }]);
    expect(s.loadDoc('a')).toEqual({ snapshot: b(9, 9), updates: [b(4)], tailBytes: 1 });
    expect(s.docNames()).toEqual(['a', 'b']);
    s.close();
  });
});

describe('SqliteStore documents', () => {
  it('survive a reopen, and count as commits', () => {
    const path = join(dir, 'reopen');
    const s = SqliteStore.open(path);
    const before = s.commits;
    s.appendDocUpdates([{ doc: 'd', update: b(5, 6) }]);
    s.compactDoc('e', b(7));
    expect(s.commits).toBe(before + 2);
    s.close();
    const again = SqliteStore.open(path);
    expect(again.loadDoc('d').updates).toEqual([b(5, 6)]);
    expect(again.loadDoc('e').snapshot).toEqual(b(7));
    again.close();
  });
});
