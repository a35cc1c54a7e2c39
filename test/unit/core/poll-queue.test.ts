import { describe, expect, it } from 'vitest';
import { PollQueue } from '../../../src/core/poll-queue.js';

describe('PollQueue', () => {
  it('hands items out oldest first, then undefined', () => {
    const q = new PollQueue<number>();
    expect(q.poll()).toBeUndefined();
    q.push(1);
    q.push(2);
    expect(q.length).toBe(2);
    expect(q.peek()).toBe(1);
    expect(q.poll()).toBe(1);
    q.push(3);
    expect([q.poll(), q.poll(), q.poll()]).toEqual([2, 3, undefined]);
    expect(q.length).toBe(0);
  });

  it('keeps its order across a drain, and clear drops everything pending', () => {
    const q = new PollQueue<string>();
    for (let round = 0; round < 3; round++) {
      q.push(`a${round}`);
      q.push(`b${round}`);
      expect([q.poll(), q.poll(), q.poll()]).toEqual([`a${round}`, `b${round}`, undefined]);
    }
    q.push('x');
    q.clear();
    expect(q.length).toBe(0);
    expect(q.poll()).toBeUndefined();
  });
});
