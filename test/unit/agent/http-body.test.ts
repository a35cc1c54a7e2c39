import { describe, expect, it } from 'vitest';
import { jsonDepth } from '../../../src/agent/http-body.js';

describe('jsonDepth', () => {
  it.each([
    ['1', 0], ['{}', 1], ['[[1],[2,[3]]]', 3], ['{"a":"[[[[","b":[1]}', 2], ['"\\"[["', 0], [`${'['.repeat(5000)}${']'.repeat(5000)}`, 5000],
  ])('%s nests %i deep (brackets in strings do not count)', (text, depth) => {
    expect(jsonDepth(text)).toBe(depth);
  });
});
