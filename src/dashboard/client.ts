/// <reference lib="dom" />
/**
 * The dashboard's browser script, inlined in the page as an ES module after uPlot's script
 * (the global `uPlot`). It reads the node serving the page, the membership timeline so far, the
 * members and the convergence once, then follows
 * `GET /v1/stream` and reads the byte counters of `GET /metrics` once a second. Only type
 * imports here (the page has no other script to load); nothing leaves the agent's origin.
 */
import type UPlot from 'uplot';
import type { ConvergenceJson, InfoJson, KvEventJson, KvReadJson, MemberEventJson, MemberJson, QuorumJson, StreamEvents, TimelineEntry, TimelineKind, UserEventJson, ViewJson } from './stream-events.js';

declare const uPlot: typeof UPlot;

/** Points kept per time series (one a second: five minutes). */
const HISTORY_POINTS_MAX = 300;
/** Lines kept in the update log. */
const LOG_LINES_MAX = 50;
/** How often the byte counters are read from /metrics. */
const TRAFFIC_INTERVAL_MS = 1000;
/** How often the round trips (probed and estimated from coordinates) are read again from /v1/members. */
const RTT_INTERVAL_MS = 10_000;
/** How often the membership view and the quorum are read from /v1/view and /v1/quorum. */
const VIEW_INTERVAL_MS = 2000;
const STATE_ORDER: Readonly<Record<string, number>> = { alive: 0, suspect: 1, leaving: 2, failed: 3, left: 4 };
const PALETTE = ['#0969da', '#cf222e', '#1a7f37', '#9a6700', '#8250df', '#bf3989', '#1b7c83', '#953800'] as const;

function color(i: number): string {
  return PALETTE[i % PALETTE.length] ?? '#000';
}

function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`dashboard: #${id} missing from the page`);
  return el as T;
}

async function get(path: string, accept: string): Promise<Response> {
  // With a token, the agent's session cookie (set when the page was opened with ?token=) goes along.
  const res = await fetch(path, { headers: { accept } });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return res;
}

async function getJson<T>(path: string): Promise<T> {
  return (await (await get(path, 'application/json')).json()) as T;
}

function cell(text: string, className?: string): HTMLTableCellElement {
  const td = document.createElement('td');
  td.textContent = text;
  if (className !== undefined) td.className = className;
  return td;
}

function formatMs(ms: number): string {
  return ms < 10 ? `${ms.toFixed(1)} ms` : ms < 10_000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function formatRate(bytesPerS: number): string {
  const n = bytesPerS;
  return n < 1024 ? `${Math.round(n)} B/s` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB/s` : `${(n / 1024 / 1024).toFixed(1)} MiB/s`;
}

function clockTime(ms: number): string {
  return new Date(ms).toLocaleTimeString([], { hour12: false });
}

/* ---------- members ---------- */

/** The member list as this page knows it: the last snapshot with the changes since applied. */
const members = new Map<string, MemberJson>();
/** The node serving the page (its row is marked), once `GET /v1/info` answered. */
let selfName: string | null = null;
/** States in which the last probe's round trip says nothing about the member now. */
const NO_RTT = new Set(['failed', 'left']);

function setMembers(list: readonly MemberJson[]): void {
  members.clear();
  for (const m of list) members.set(m.name, m);
  renderMembers();
}

function applyMemberEvent(e: MemberEventJson): void {
  logMemberEvent(e);
  switch (e.type) {
    case 'member-joined':
    case 'member-updated':
    case 'member-left':
    case 'member-failed': {
      const prev = members.get(e.member.name);
      const rttMs = e.member.rttMs ?? prev?.rttMs;
      const estimatedRttMs = e.member.estimatedRttMs ?? prev?.estimatedRttMs;
      members.set(e.member.name, { ...e.member, ...(rttMs === undefined ? {} : { rttMs }), ...(estimatedRttMs === undefined ? {} : { estimatedRttMs }) });
      break;
    }
    case 'member-reaped':
      members.delete(e.member.name);
      break;
    case 'member-suspected':
    case 'member-recovered': {
      const m = members.get(e.name);
      if (m !== undefined) members.set(e.name, { ...m, status: e.type === 'member-suspected' ? 'suspect' : 'alive' });
      break;
    }
  }
  renderMembers();
}

function renderMembers(): void {
  const sorted = [...members.values()].sort((a, b) => (STATE_ORDER[a.status] ?? 9) - (STATE_ORDER[b.status] ?? 9) || a.name.localeCompare(b.name));
  const rows = sorted.map((m) => {
    const tr = document.createElement('tr');
    tr.dataset.name = m.name;
    tr.dataset.status = m.status;
    if (m.name === selfName) tr.dataset.self = 'true';
    const th = document.createElement('th');
    th.scope = 'row';
    th.textContent = m.name;
    tr.append(
      th,
      cell(`${m.addr}:${m.port}`),
      cell(m.status, `state state-${m.status}`),
      cell(Object.entries(m.tags).map(([k, v]) => `${k}=${v}`).join(', '), 'tags'),
      cell(m.incarnation === null ? '–' : String(m.incarnation), 'num'),
      cell(m.rttMs === undefined || NO_RTT.has(m.status) ? '–' : formatMs(m.rttMs), 'num'),
      // Estimated from network coordinates; none for a member that is not alive.
      cell(m.status !== 'alive' || m.estimatedRttMs === undefined ? '–' : formatMs(m.estimatedRttMs), 'num'),
    );
    return tr;
  });
  byId<HTMLTableElement>('members').tBodies[0]?.replaceChildren(...rows);
  const counts = new Map<string, number>();
  for (const m of members.values()) counts.set(m.status, (counts.get(m.status) ?? 0) + 1);
  const parts = [...counts].sort((a, b) => (STATE_ORDER[a[0]] ?? 9) - (STATE_ORDER[b[0]] ?? 9)).map(([st, n]) => `${n} ${st}`);
  const n = members.size;
  byId('members-summary').textContent = n === 0 ? 'no members' : `${n} member${n === 1 ? '' : 's'}: ${parts.join(', ')}`;
}

/* ---------- membership view and quorum ---------- */

/** A paragraph as `label <strong>status</strong> rest`, its state in `data-<attr>`. */
function statusLine(id: string, attr: string, on: boolean, label: string, status: string, rest: string): void {
  const el = byId(id);
  el.dataset[attr] = String(on);
  const strong = document.createElement('strong');
  strong.textContent = status;
  el.replaceChildren(label, strong, rest);
}

function renderView(v: ViewJson, q: QuorumJson): void {
  const counts = new Map<string, number>();
  for (const m of v.current.members) counts.set(m.state, (counts.get(m.state) ?? 0) + 1);
  const states = [...counts].sort((a, b) => (STATE_ORDER[a[0]] ?? 9) - (STATE_ORDER[b[0]] ?? 9)).map(([st, n]) => `${n} ${st}`).join(', ');
  const last = v.stable || v.stableView === null ? '' : `; last stable: epoch ${v.stableView.epoch}, ${v.stableView.checksum}`;
  statusLine('view-now', 'stable', v.stable, 'view ', v.stable ? 'stable' : 'settling', `: epoch ${v.current.epoch}, checksum ${v.current.checksum}, ${v.current.members.length} member${v.current.members.length === 1 ? '' : 's'} (${states})${last}`);
  const basis = q.basis === null ? ' (no stable view yet)' : ` of stable view ${q.basis.checksum}`;
  statusLine('quorum-now', 'quorum', q.hasQuorum, '', q.hasQuorum ? 'quorum' : 'quorum lost', `: ${q.reachable} of ${q.total} reachable, needs more than ${q.needMoreThan}${basis}`);
  const table = byId<HTMLTableElement>('view-disagreeing');
  table.tBodies[0]?.replaceChildren(...v.disagreeing.map((d) => {
    const tr = document.createElement('tr');
    tr.dataset.name = d.name;
    const th = document.createElement('th');
    th.scope = 'row';
    th.textContent = d.name;
    tr.append(th, cell(d.checksum ?? 'not heard from'));
    return tr;
  }));
  table.hidden = v.disagreeing.length === 0;
  const n = v.disagreeing.length;
  byId('view-disagree-summary').textContent = n === 0 ? 'every live member holds this view' : `${n} live member${n === 1 ? '' : 's'} not yet seen holding this view`;
}

async function readView(): Promise<void> {
  try {
    const [v, q] = await Promise.all([getJson<ViewJson>('/v1/view'), getJson<QuorumJson>('/v1/quorum')]);
    renderView(v, q);
  } catch (e) {
    byId('view-now').textContent = `cannot read the view: ${e instanceof Error ? e.message : String(e)}`;
  }
  setTimeout(() => void readView(), VIEW_INTERVAL_MS);
}

/* ---------- charts ---------- */

function chartWidth(el: HTMLElement): number {
  return Math.max(300, Math.floor(el.clientWidth || 500));
}

function makeChart(id: string, opts: Omit<UPlot.Options, 'width' | 'height'>, data: UPlot.AlignedData): UPlot {
  const el = byId(id);
  el.replaceChildren();
  return new uPlot({ ...opts, width: chartWidth(el), height: 200 }, data, el);
}

/** Time charts show at least the last minute, so one or two samples do not stretch over years. */
const TIME_WINDOW_MIN_S = 60;

/** Sets a time chart's data and its x window (uPlot's own range is degenerate with a single point). */
function setTimeData(chart: UPlot, data: UPlot.AlignedData): void {
  chart.setData(data, false);
  const xs = data[0];
  const first = xs[0];
  const last = xs[xs.length - 1];
  if (first === undefined || last === undefined) return;
  chart.setScale('x', { min: Math.min(first, last - TIME_WINDOW_MIN_S), max: last });
}

/** Seconds since the epoch (uPlot's time unit) and values, trimmed to the last HISTORY_POINTS_MAX. */
class Series {
  readonly xs: number[] = [];
  readonly ys: number[] = [];
  /** Adds a point in x order (uPlot needs sorted x; a sample may arrive after a later one). */
  push(x: number, y: number): void {
    let i = this.xs.length;
    while (i > 0 && (this.xs[i - 1] ?? 0) > x) i--;
    this.xs.splice(i, 0, x);
    this.ys.splice(i, 0, y);
    if (this.xs.length > HISTORY_POINTS_MAX) {
      this.xs.shift();
      this.ys.shift();
    }
  }
}

const agreement = new Series();
let agreementChart: UPlot | undefined;
let tteChart: UPlot | undefined;

function renderConvergence(c: ConvergenceJson, atMs: number): void {
  agreement.push(atMs / 1000, c.agreement);
  const counts = c.live === undefined || c.agreeing === undefined ? '' : `, ${c.agreeing} of ${c.live}${c.unknown ? ` (${c.unknown} not heard from)` : ''}`;
  byId('agreement-now').textContent = `${(c.agreement * 100).toFixed(0)} % of alive members agree with this node${counts} (${c.keys} key${c.keys === 1 ? '' : 's'})`;
  agreementChart ??= makeChart('agreement-chart', {
    scales: { y: { range: [0, 1] } },
    axes: [{}, { values: (_u, ticks) => ticks.map((t) => `${Math.round(t * 100)} %`), size: 60 }],
    series: [{}, { label: 'agreement', stroke: color(0), width: 2, value: (_u, v) => (v === null ? '–' : `${(v * 100).toFixed(0)} %`) }],
  }, [[], []]);
  setTimeData(agreementChart, [agreement.xs, agreement.ys]);

  const tte = c.timeToEveryoneMs;
  const sorted = [...tte].sort((a, b) => a - b);
  const p50 = sorted[Math.floor((sorted.length - 1) / 2)];
  const last = tte[tte.length - 1];
  byId('tte-now').textContent = last === undefined || p50 === undefined
    ? 'no update measured yet'
    : `latest ${formatMs(last)}, median ${formatMs(p50)}, max ${formatMs(sorted[sorted.length - 1] ?? last)} over ${tte.length} recent update${tte.length === 1 ? '' : 's'}`;
  tteChart ??= makeChart('tte-chart', {
    scales: { x: { time: false, range: (_u, _min, max) => [0.5, Math.max(1, max) + 0.5] }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
    axes: [{ label: 'recent updates, oldest to newest', incrs: [1, 2, 5, 10, 20, 50, 100] }, { values: (_u, ticks) => ticks.map((t) => formatMs(t)), size: 70 }],
    series: [{ label: 'update' }, { label: 'time to everyone', stroke: color(1), width: 1, points: { show: true, size: 6, fill: color(1) }, value: (_u, v) => (v === null ? '–' : formatMs(v)) }],
  }, [[], []]);
  tteChart.setData([tte.map((_, i) => i + 1), [...tte]]);
}

/* ---------- traffic ---------- */

/** Bytes since the agent started, by message type and direction: one reading of `GET /metrics`. */
interface TrafficSample {
  readonly atMs: number;
  readonly bytesIn: Readonly<Record<string, number>>;
  readonly bytesOut: Readonly<Record<string, number>>;
}

/**
 * Reads the byte counters out of Prometheus text: every sample of a metric named `*_bytes_total`
 * counts, under its `type` label when it has one, else under the metric's short name
 * (`gossip_packet_bytes_total` → `packet`); `direction="out"` is sent, anything else received.
 */
function parseTraffic(text: string, atMs: number): TrafficSample {
  const bytesIn: Record<string, number> = {};
  const bytesOut: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*_bytes_total)(?:\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (m === null) continue;
    const value = Number(m[3]);
    if (!Number.isFinite(value)) continue;
    const labels = new Map<string, string>();
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels.set(l[1] ?? '', l[2] ?? '');
    const type = labels.get('type') ?? (m[1] ?? '').replace(/^gossip_/, '').replace(/_bytes_total$/, '');
    const into = labels.get('direction') === 'out' ? bytesOut : bytesIn;
    into[type] = (into[type] ?? 0) + value;
  }
  return { atMs, bytesIn, bytesOut };
}

let lastTraffic: TrafficSample | undefined;
const trafficXs: number[] = [];
/** Bytes per second (in + out) per message type, aligned with trafficXs (null before a type appeared). */
const trafficRates = new Map<string, (number | null)[]>();
let trafficChart: UPlot | undefined;
let trafficChartTypes = '';

function rate(cur: Readonly<Record<string, number>>, prev: Readonly<Record<string, number>>, type: string, seconds: number): number {
  return Math.max(0, ((cur[type] ?? 0) - (prev[type] ?? 0)) / seconds);
}

/** Readings of /metrics taken so far (on the traffic table as `data-samples`). */
let trafficSamples = 0;

function renderTraffic(t: TrafficSample): void {
  const prev = lastTraffic;
  lastTraffic = t;
  byId('traffic').dataset.samples = String(++trafficSamples);
  if (prev === undefined || t.atMs <= prev.atMs) return;
  const seconds = (t.atMs - prev.atMs) / 1000;
  const types = [...new Set([...Object.keys(t.bytesIn), ...Object.keys(t.bytesOut)])].sort();
  trafficXs.push(t.atMs / 1000);
  for (const type of types) {
    if (!trafficRates.has(type)) trafficRates.set(type, trafficXs.slice(0, -1).map(() => null));
  }
  const rows: HTMLTableRowElement[] = [];
  for (const [type, ys] of trafficRates) {
    const rin = rate(t.bytesIn, prev.bytesIn, type, seconds);
    const rout = rate(t.bytesOut, prev.bytesOut, type, seconds);
    ys.push(rin + rout);
    if (ys.length > HISTORY_POINTS_MAX) ys.shift();
    const tr = document.createElement('tr');
    const th = document.createElement('th');
    th.scope = 'row';
    th.textContent = type;
    tr.append(th, cell(formatRate(rin), 'num'), cell(formatRate(rout), 'num'));
    rows.push(tr);
  }
  if (trafficXs.length > HISTORY_POINTS_MAX) trafficXs.shift();
  byId<HTMLTableElement>('traffic').tBodies[0]?.replaceChildren(...rows);

  const names = [...trafficRates.keys()];
  if (trafficChart === undefined || trafficChartTypes !== names.join('\n')) {
    trafficChart?.destroy();
    trafficChartTypes = names.join('\n');
    trafficChart = makeChart('traffic-chart', {
      axes: [{}, { values: (_u, ticks) => ticks.map((v) => formatRate(v)), size: 80 }],
      series: [{}, ...names.map((name, i) => ({ label: name, stroke: color(i), width: 1.5, value: (_u: UPlot, v: number | null) => (v === null ? '–' : formatRate(v)) }))],
    }, [[], ...names.map(() => [])]);
  }
  setTimeData(trafficChart, [trafficXs, ...names.map((n) => trafficRates.get(n) ?? [])]);
}

/* ---------- update log ---------- */

function logLine(atMs: number, text: string, memberKind?: TimelineKind): void {
  const li = document.createElement('li');
  if (memberKind !== undefined) li.dataset.memberKind = memberKind;
  const time = document.createElement('time');
  time.dateTime = new Date(atMs).toISOString();
  time.textContent = clockTime(atMs);
  li.append(time, text);
  const log = byId<HTMLOListElement>('log');
  log.prepend(li);
  while (log.children.length > LOG_LINES_MAX) log.lastElementChild?.remove();
}

const TIMELINE_TEXT: Readonly<Record<TimelineKind, string>> = {
  joined: 'joined', rejoined: 'rejoined', suspect: 'is suspected', recovered: 'is alive again', failed: 'failed', left: 'left', updated: 'changed its tags', reaped: 'was removed from the list',
};

function logTimeline(e: TimelineEntry): void {
  logLine(e.atMs, `${e.name} ${TIMELINE_TEXT[e.kind]}${e.addr === undefined ? '' : ` at ${e.addr}`}`, e.kind);
}

/** A member event from the stream as a timeline line (a join of a member this page saw failed or left is a rejoin). */
function logMemberEvent(e: MemberEventJson): void {
  const now = Date.now();
  switch (e.type) {
    case 'member-joined': {
      const before = members.get(e.member.name)?.status;
      return logTimeline({ atMs: now, name: e.member.name, kind: before === 'failed' || before === 'left' ? 'rejoined' : 'joined', addr: `${e.member.addr}:${e.member.port}` });
    }
    case 'member-suspected':
      return logTimeline({ atMs: now, name: e.name, kind: 'suspect' });
    case 'member-recovered':
      return logTimeline({ atMs: now, name: e.name, kind: 'recovered' });
    case 'member-failed':
      return logTimeline({ atMs: now, name: e.member.name, kind: 'failed' });
    case 'member-left':
      return logTimeline({ atMs: now, name: e.member.name, kind: 'left' });
    case 'member-updated':
      return logTimeline({ atMs: now, name: e.member.name, kind: 'updated' });
    case 'member-reaped':
      return logTimeline({ atMs: now, name: e.member.name, kind: 'reaped' });
  }
}

function renderKv(u: KvEventJson): void {
  logLine(Date.now(), `${u.deleted ? 'deleted' : 'wrote'} ${u.key}${u.cause === undefined ? '' : ` (${u.cause})`}`);
}

function renderUserEvent(e: UserEventJson): void {
  logLine(Date.now(), `event ${e.name}, ${new TextEncoder().encode(e.payload).length} B${e.ltime === undefined ? '' : ` (ltime ${e.ltime})`}`);
}

/* ---------- key browser ---------- */

/** Keys listed at most (the rest counted). */
const KEYS_SHOWN_MAX = 200;

async function listKeys(prefix: string): Promise<void> {
  const summary = byId('kv-summary');
  try {
    const r = await getJson<{ prefix: string; keys: string[] }>(`/v1/kv?prefix=${encodeURIComponent(prefix)}`);
    const keys = [...r.keys].sort();
    const items = keys.slice(0, KEYS_SHOWN_MAX).map((key) => {
      const li = document.createElement('li');
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = key;
      b.dataset.key = key;
      b.addEventListener('click', () => void showKey(key));
      li.append(b);
      return li;
    });
    byId('kv-keys').replaceChildren(...items);
    const what = prefix === '' ? '' : ` under '${prefix}'`;
    summary.textContent = keys.length === 0 ? `no keys${what}` : `${keys.length} key${keys.length === 1 ? '' : 's'}${what}${keys.length > KEYS_SHOWN_MAX ? ` (first ${KEYS_SHOWN_MAX} shown)` : ''}`;
  } catch (e) {
    summary.textContent = `cannot list keys: ${e instanceof Error ? e.message : String(e)}`;
  }
}

function valueItem(v: unknown): HTMLLIElement {
  const li = document.createElement('li');
  const pre = document.createElement('pre');
  pre.textContent = JSON.stringify(v, null, 2);
  li.append(pre);
  return li;
}

async function showKey(key: string): Promise<void> {
  for (const b of byId('kv-keys').querySelectorAll<HTMLButtonElement>('button')) b.setAttribute('aria-current', String(b.dataset.key === key));
  const detail = byId('kv-detail');
  byId('kv-key').textContent = key;
  let r: KvReadJson;
  try {
    r = await getJson<KvReadJson>(`/v1/kv/${encodeURIComponent(key)}`);
  } catch (e) {
    byId('kv-type').textContent = `cannot read it: ${e instanceof Error ? e.message : String(e)}`;
    byId('kv-values').replaceChildren();
    byId('kv-context').textContent = '';
    detail.hidden = false;
    return;
  }
  let type: string;
  let values: unknown[];
  switch (r.type) {
    case 'register':
      type = r.values.length > 1 ? `${r.values.length} siblings (concurrent values; a write with this context replaces them)` : 'value';
      values = [...r.values];
      break;
    case 'counter':
      type = 'counter';
      values = [r.value];
      break;
    case 'set':
      type = `set of ${r.elements.length}`;
      values = [...r.elements];
      break;
    case 'map':
      type = 'map';
      values = [r.fields];
      break;
  }
  byId('kv-type').textContent = type;
  byId('kv-values').replaceChildren(...values.map(valueItem));
  byId('kv-values').dataset.count = String(values.length);
  byId('kv-context').textContent = JSON.stringify(r.context);
  detail.hidden = false;
}

function setUpKeyBrowser(): void {
  const form = byId<HTMLFormElement>('kv-search');
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void listKeys(byId<HTMLInputElement>('kv-prefix').value);
  });
}

/* ---------- wiring ---------- */

function setConnection(state: 'connecting' | 'open' | 'lost', text: string): void {
  const el = byId('connection');
  el.dataset.state = state;
  el.textContent = text;
}

function listen<K extends keyof StreamEvents>(source: EventSource, name: K, render: (data: StreamEvents[K]) => void): void {
  source.addEventListener(name, (ev) => {
    try {
      render(JSON.parse((ev as MessageEvent<string>).data) as StreamEvents[K]);
    } catch (e) {
      console.error(`dashboard: bad '${name}' event`, e);
    }
  });
}

function connect(): void {
  const source = new EventSource('/v1/stream');
  source.addEventListener('open', () => setConnection('open', 'live'));
  source.addEventListener('error', () => setConnection(source.readyState === EventSource.CLOSED ? 'lost' : 'connecting', source.readyState === EventSource.CLOSED ? 'disconnected' : 'reconnecting…'));
  listen(source, 'members', setMembers);
  listen(source, 'member', applyMemberEvent);
  listen(source, 'convergence', (c) => renderConvergence(c, Date.now()));
  listen(source, 'kv', renderKv);
  listen(source, 'user-event', renderUserEvent);
  // Fell behind: member changes may be lost, so read the list again.
  listen(source, 'lagged', () => {
    getJson<MemberJson[]>('/v1/members').then(setMembers, (e: unknown) => console.error('dashboard: cannot re-read the members', e));
  });
}

async function readTraffic(): Promise<void> {
  try {
    const text = await (await get('/metrics', 'text/plain')).text();
    renderTraffic(parseTraffic(text, Date.now()));
  } catch (e) {
    console.warn('dashboard: cannot read /metrics', e);
  }
  setTimeout(() => void readTraffic(), TRAFFIC_INTERVAL_MS);
}

/** Refreshes only the round trips of the members shown (their states come from the stream). */
async function readRtts(): Promise<void> {
  try {
    for (const m of await getJson<MemberJson[]>('/v1/members')) {
      const known = members.get(m.name);
      if (known === undefined) continue;
      const rest: MemberJson = { name: known.name, addr: known.addr, port: known.port, status: known.status, tags: known.tags, incarnation: known.incarnation };
      members.set(m.name, { ...rest, ...(m.rttMs === undefined ? {} : { rttMs: m.rttMs }), ...(m.estimatedRttMs === undefined ? {} : { estimatedRttMs: m.estimatedRttMs }) });
    }
    renderMembers();
  } catch (e) {
    console.warn('dashboard: cannot re-read the round trips', e);
  }
  setTimeout(() => void readRtts(), RTT_INTERVAL_MS);
}

/** The node serving the page, in the header (an agent without `/v1/info` leaves it out). */
async function readSelf(): Promise<void> {
  const el = byId('served-by');
  try {
    const info = await getJson<InfoJson>('/v1/info');
    selfName = info.agent.name;
    const strong = document.createElement('strong');
    strong.textContent = info.agent.name;
    el.replaceChildren('served by ', strong, ` at ${info.agent.addr}, version ${info.agent.version}`);
  } catch (e) {
    el.textContent = '';
    console.warn('dashboard: cannot read /v1/info', e);
  }
}

/** The membership changes the agent saw before this page opened, oldest first (newest ends on top). */
async function readTimeline(): Promise<void> {
  try {
    for (const e of (await getJson<{ events: TimelineEntry[] }>('/v1/timeline')).events) logTimeline(e);
  } catch (e) {
    console.warn('dashboard: cannot read /v1/timeline', e);
  }
}

async function start(): Promise<void> {
  setUpKeyBrowser();
  await Promise.all([readSelf(), readTimeline()]);
  void listKeys('');
  try {
    const [list, convergence] = await Promise.all([getJson<MemberJson[]>('/v1/members'), getJson<ConvergenceJson>('/v1/convergence')]);
    setMembers(list);
    renderConvergence(convergence, Date.now());
  } catch (e) {
    setConnection('lost', `cannot reach the agent: ${e instanceof Error ? e.message : String(e)}`);
  }
  connect();
  void readTraffic();
  void readView();
  setTimeout(() => void readRtts(), RTT_INTERVAL_MS);
}

void start();
