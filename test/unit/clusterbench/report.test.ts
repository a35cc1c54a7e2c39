import { describe, expect, it } from 'vitest';
import type { BatchFigures } from '../../../src/clusterbench/event-batch.js';
import type { BenchReport } from '../../../src/clusterbench/report.js';
import { renderReport, sizeNotes, sizeRows } from '../../../src/clusterbench/report.js';
import type { JoinFigures, RunResult } from '../../../src/clusterbench/run.js';
import type { RunningJoinFigures } from '../../../src/clusterbench/running-join.js';
import { cpuBetween } from '../../../src/clusterbench/running-join.js';

const batch = (sent: number, sendErrors: number): BatchFigures => ({
  sent, sendErrors, reachedAll: sent - sendErrors, duplicates: 0, p50MedianS: 0.1, p90MedianS: 0.2, p100MedianS: 0.3, p100MaxS: 0.4, perMessage: [],
});

const run = (churnSendErrors: number): RunResult => ({
  side: 'ours', n: 10, run: 1, seed: 1, error: null, agentsFromSource: false, join: null, runningJoin: null, steady: null, late: null, writes: null,
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

const fromLaunch = (seconds: number): JoinFigures => ({
  seconds, timedOut: false, cpuSecondsMedian: 0.3, cpuSecondsMax: 0.4, suspectedLive: 0, suspectedNames: [], suspicionsRaised: null, startFailures: [],
});

const running = (seconds: number, over: Partial<RunningJoinFigures> = {}): RunningJoinFigures => ({
  seconds, timedOut: false, issueS: 0.012, firstAnsweredS: 0.05, answeredS: 0.2, joinFailed: 0, joinErrors: [],
  cpuSecondsMedian: 0.02, cpuSecondsMax: 0.05, cpuSecondsTotal: 0.25, suspectedLive: 0, suspectedNames: [], suspicionsRaised: 0,
  benchCpuS: 0.04, startedS: 3.1, startFailures: [], ...over,
});

const both = (side: 'ours' | 'serf', launchS: number, rj: RunningJoinFigures | null): RunResult => ({
  ...run(0), side, churn: null, events: null, droppedAsOld: null, join: fromLaunch(launchS), runningJoin: rj,
});

describe('the bench report: the join among running agents', () => {
  const runs = [both('serf', 0.26, running(0.2)), both('ours', 1.9, running(0.25, { suspectedLive: 1, suspectedNames: ['n3'] }))];

  it('has its own rows beside the from-launch ones, with ours/serf', () => {
    const rows = sizeRows(runs);
    const keys = rows.map((r) => r.key);
    expect(keys).toEqual(['runningJoin.seconds', 'runningJoin.cpuSecondsMedian', 'runningJoin.cpuSecondsTotal', 'runningJoin.suspectedLive',
      'join.seconds', 'join.cpuSecondsMedian', 'join.cpuSecondsMax', 'join.suspectedLive']);
    const j = rows.find((r) => r.key === 'runningJoin.seconds');
    expect(j?.serf?.median).toBe(0.2);
    expect(j?.ours?.median).toBe(0.25);
    expect(j?.ratio).toBeCloseTo(1.25);
    expect(rows.find((r) => r.key === 'join.seconds')?.ratio).toBeCloseTo(1.9 / 0.26);
    expect(rows.find((r) => r.key === 'runningJoin.suspectedLive')?.ratio).toBeNull(); // a count
  });

  it('leaves the rows out when the running join was not measured (--no-running-join)', () => {
    const keys = sizeRows([both('serf', 0.26, null), both('ours', 1.9, null)]).map((r) => r.key);
    expect(keys.some((k) => k.startsWith('runningJoin.'))).toBe(false);
    expect(keys).toContain('join.seconds');
  });

  it('says in the notes how long issuing the requests took, when they were answered, and who was suspected', () => {
    const notes = sizeNotes(runs, 0);
    expect(notes).toContain('serf run 1: running join: 10 agents answered 3.1 s after launch; the 9 join requests were issued concurrently in 12 ms; answered after 50 ms–200 ms; the bench process spent 40 ms of CPU until every node listed all alive');
    expect(notes).toContain('ours run 1: running join: 1 live node suspected: n3');
    const failed = sizeNotes([both('ours', 1.9, running(0.3, { answeredS: null, joinFailed: 3, joinErrors: ['n2: HTTP 502', 'n5: HTTP 502'], timedOut: true, seconds: null }))], 0);
    expect(failed).toContain('ours run 1: running join: 3 of 9 join requests failed (the agent could not push-pull with node 0), e.g. n2: HTTP 502; n5: HTTP 502');
    expect(failed).toContain('ours run 1: running join: not every node listed all 10 alive within the join timeout');
  });

  it('shows the rows in the text table and in the JSON', () => {
    const rep: BenchReport = {
      seed: 1, options: {}, machine: { cpus: 2, loadAvg: [1, 1, 1], node: 'v22', serf: 'Serf v0.10' }, wireSource: 'none', agentsFromSource: false,
      sizes: [{ n: 10, rows: sizeRows(runs), notes: sizeNotes(runs, 0), runs }],
    };
    const text = renderReport(rep, 0).join('\n');
    expect(text).toContain('| join, all already running: every node lists all N alive, s after the join requests | 0.20 | 0.25 | 1.25× |');
    expect(text).toContain('| join: every node lists all N alive, s after the joiners start | 0.26 | 1.90 | 7.31× |');
    expect(text).not.toMatch(/polled every/);
    expect(renderReport({ ...rep, options: { pollMs: 50 } }, 0).join('\n')).toMatch(/^joins and the failure: every agent's members polled every 50 ms, so those times are known to within 50 ms/m);
    const json = JSON.parse(JSON.stringify(rep)) as BenchReport;
    expect(json.sizes[0]?.rows.find((r) => r.key === 'runningJoin.seconds')?.ours?.median).toBe(0.25);
    expect(json.sizes[0]?.runs[1]?.runningJoin?.issueS).toBe(0.012);
  });

  it('counts the CPU between two readings of the same process', () => {
    expect(cpuBetween({ utimeTicks: 10, stimeTicks: 5, atMs: 0 }, { utimeTicks: 30, stimeTicks: 10, atMs: 1000 }, 100)).toBeCloseTo(0.25);
    expect(cpuBetween(null, { utimeTicks: 1, stimeTicks: 1, atMs: 0 }, 100)).toBeNull();
  });
});
