import { describe, expect, it } from 'vitest';
import type { BatchFigures } from '../../../src/clusterbench/event-batch.js';
import { sizeNotes } from '../../../src/clusterbench/report.js';
import type { RunResult } from '../../../src/clusterbench/run.js';

const batch = (sent: number, sendErrors: number): BatchFigures => ({
  sent, sendErrors, reachedAll: sent - sendErrors, duplicates: 0, p50MedianS: 0.1, p90MedianS: 0.2, p100MedianS: 0.3, p100MaxS: 0.4, perMessage: [],
});

const run = (churnSendErrors: number): RunResult => ({
  side: 'ours', n: 10, run: 1, seed: 1, error: null, agentsFromSource: false, join: null, steady: null, late: null, writes: null,
  events: batch(200, 0), churn: { joiner: 'n10', restarted: 'n4', joinerJoinedS: 0.4, restartedRejoinedS: 0.6, events: batch(200, churnSendErrors) },
  droppedAsOld: 0, failure: null,
});

describe('the bench report notes', () => {
  it('say when churn events could not be sent, so a "199 of 200" is not read as an event lost by the cluster', () => {
    expect(sizeNotes([run(0)], 200)).toEqual([]);
    const notes = sizeNotes([run(1)], 200);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(/churn: 1 of 200 events could not be sent/);
  });
});
