import { describe, expect, it } from 'vitest';
import { splitSse } from '../../../src/clusterbench/agent-stream.js';
import { batchFigures } from '../../../src/clusterbench/event-batch.js';
import { eventsDroppedAsOld, metricSum } from '../../../src/clusterbench/metrics-text.js';
import { planRuns, runSeed } from '../../../src/clusterbench/scenario.js';
import { suspectsInAgentLog } from '../../../src/clusterbench/our-node.js';
import { handlerScript, parseHandlerLines, suspectsInSerfLog } from '../../../src/clusterbench/serf-node.js';

describe('serf side: handler lines and log', () => {
  it('the handler stamps with bash EPOCHREALTIME and appends the payload', () => {
    expect(handlerScript('/tmp/x/events.tsv')).toContain('"$t" "$payload" >> \'/tmp/x/events.tsv\'');
  });
  it('parses handler lines (a comma decimal too), skipping junk', () => {
    expect(parseHandlerLines('1700000000.250000\te1-0\n\njunk\n1700000001,5\te1-1\n')).toEqual([
      { id: 'e1-0', atMs: 1700000000250 }, { id: 'e1-1', atMs: 1700000001500 },
    ]);
  });
  it('finds suspected names: the prober\'s line and the suspect\'s own refutation', () => {
    const log = [
      '    2026/12/06 01:44:45 [INFO] memberlist: Suspect n7 has failed, no acks received',
      '    2026/12/06 01:44:46 [WARN] memberlist: Refuting a suspect message (from: n3)',
      '    2026/12/06 01:44:47 [INFO] serf: EventMemberJoin: n9 127.0.0.1',
    ].join('\n');
    expect([...suspectsInSerfLog(log, 'n2')].sort()).toEqual(['n2', 'n7']);
    expect(suspectsInSerfLog('', 'n2').size).toBe(0);
  });
});

describe('our side: stream and metrics text', () => {
  it('finds suspected names in our agent\'s log: the prober\'s line and the suspect\'s own refutation, skipping other lines and junk', () => {
    const log = [
      '{"level":30,"time":1,"node":"n1","member":"n7","msg":"suspect has failed, no acks received"}',
      '{"level":40,"time":2,"node":"n1","by":"n3","msg":"refuted a suspicion or death about this node"}',
      '{"level":30,"time":3,"node":"n1","member":"n9","addr":"127.0.0.1:7946","msg":"member joined"}',
      'not json, suspect',
    ].join('\n');
    expect([...suspectsInAgentLog(log, 'n1')].sort()).toEqual(['n1', 'n7']);
    expect(suspectsInAgentLog('', 'n1').size).toBe(0);
  });
  it('splits server-sent events, keeping an incomplete tail', () => {
    const r = splitSse(': hello\n\nevent: user-event\ndata: {"name":"bench"}\n\nevent: kv\ndata: {"ke');
    expect(r.events).toEqual([{ event: 'user-event', data: '{"name":"bench"}' }]);
    expect(r.rest).toBe('event: kv\ndata: {"ke');
  });
  it('finds a counter of events dropped as old, by name or label; null when there is none', () => {
    expect(eventsDroppedAsOld('# HELP x\ngossip_user_events_dropped_total{reason="old"} 3\ngossip_user_events_dropped_total{reason="full"} 9\n')).toBe(3);
    expect(eventsDroppedAsOld('gossip_events_dropped_old_total 4\n')).toBe(4);
    expect(eventsDroppedAsOld('gossip_members{status="alive"} 4\ngossip_probes_total 10\n')).toBeNull();
    expect(metricSum('gossip_suspicions_raised_total 2\n', 'gossip_suspicions_raised_total')).toBe(2);
    expect(metricSum('', 'gossip_suspicions_raised_total')).toBeNull();
  });
});

describe('batchFigures', () => {
  const sent = [
    { id: 'e-0', from: 'a', sentAtMs: 0, error: null },
    { id: 'e-1', from: 'b', sentAtMs: 100, error: null },
    { id: 'e-2', from: 'b', sentAtMs: 200, error: 'HTTP 500' },
  ];
  const arrivals = new Map([
    ['a', [{ id: 'e-0', atMs: 10 }, { id: 'e-1', atMs: 300 }]],
    ['b', [{ id: 'e-0', atMs: 20 }, { id: 'e-0', atMs: 900 }, { id: 'e-1', atMs: 110 }]],
    ['c', [{ id: 'e-0', atMs: 400 }]],
  ]);
  it('counts messages that reached every expected node, duplicates, and medians over messages', () => {
    const f = batchFigures(sent, arrivals, () => ['a', 'b', 'c']);
    expect(f.sent).toBe(3);
    expect(f.sendErrors).toBe(1);
    expect(f.reachedAll).toBe(1);
    expect(f.duplicates).toBe(1);
    expect(f.p100MedianS).toBe(0.4);
    expect(f.p100MaxS).toBe(0.4);
    expect(f.perMessage[1]).toMatchObject({ id: 'e-1', reached: 2, expected: 3, p100S: null, p50S: 0.2 });
  });
  it('asks who was expected per message (a node that joined later)', () => {
    const f = batchFigures(sent, arrivals, (s) => (s.id === 'e-1' ? ['a', 'b'] : ['a', 'b', 'c']));
    expect(f.reachedAll).toBe(2);
  });
});

describe('planRuns', () => {
  it('interleaves serf and ours per size and run, both sides with the same seed', () => {
    const plans = planRuns({ nodes: [10, 30], runs: 2, against: 'serf', seed: 7 });
    expect(plans.map((p) => `${p.n}/${p.run}/${p.side}`)).toEqual([
      '10/1/serf', '10/1/ours', '10/2/serf', '10/2/ours', '30/1/serf', '30/1/ours', '30/2/serf', '30/2/ours',
    ]);
    expect(plans[0]?.seed).toBe(plans[1]?.seed);
    expect(plans[0]?.seed).not.toBe(plans[2]?.seed);
    expect(runSeed(7, 10, 1)).toBe(plans[0]?.seed);
  });
  it('runs ours alone without --against', () => {
    expect(planRuns({ nodes: [4], runs: 1, against: null, seed: 1 }).map((p) => p.side)).toEqual(['ours']);
  });
});
