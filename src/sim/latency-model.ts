import type { Rng } from '../core/rng.js';

/**
 * Where nodes sit and how far apart they are, for the simulator: every distance-aware feature
 * (network coordinates, nearest-node queries, latency-aware dissemination) is measured against
 * the true round trip this model defines.
 *
 * Geometric: each region has a centre on a plane (ms of one-way delay), each zone a place
 * within `zoneSpreadMs` of it, each host a place within `hostSpreadMs` of its zone and an
 * access link (a delay it adds to every path, like Vivaldi's height) in
 * [accessMinMs, accessMaxMs]. True RTT(a, b) = 2 × |pos(a) − pos(b)| + access(a) + access(b).
 * A fraction `triangleViolators` of hosts are badly placed: towards about half of the other
 * hosts (chosen by a hash of the pair), their round trip is multiplied by a factor in
 * [violationMin, violationMax], which breaks the triangle inequality as detours on real
 * networks do. Each packet's one-way delay is half the true RTT times (1 + an exponential
 * draw with mean `jitter`).
 */
export interface LatencySpec {
  readonly regions: readonly { readonly name: string; readonly x: number; readonly y: number; readonly zones: number }[];
  readonly zoneSpreadMs: number;
  readonly hostSpreadMs: number;
  readonly accessMinMs: number;
  readonly accessMaxMs: number;
  /** Mean of the exponential per-packet jitter, as a fraction of the one-way delay. */
  readonly jitter: number;
  readonly triangleViolators: number;
  readonly violationMin: number;
  readonly violationMax: number;
}

/**
 * `lan`: one data centre, 4 zones (racks, rooms) a few tenths of a millisecond apart.
 * `geo`: five regions on two continents (one-way delays on a map, in ms: coast to coast about
 * 35 ms, across the Atlantic about 40 ms), 3 zones each a millisecond or so apart, 2 % of hosts
 * badly placed.
 */
export const LATENCY_PRESETS = {
  lan: {
    regions: [{ name: 'dc', x: 0, y: 0, zones: 4 }],
    zoneSpreadMs: 0.15, hostSpreadMs: 0.05, accessMinMs: 0.02, accessMaxMs: 0.1, jitter: 0.05,
    triangleViolators: 0.02, violationMin: 1.5, violationMax: 3,
  },
  geo: {
    regions: [
      { name: 'us-west', x: 0, y: 0, zones: 3 },
      { name: 'us-east', x: 33, y: 4, zones: 3 },
      { name: 'eu-west', x: 70, y: 0, zones: 3 },
      { name: 'eu-central', x: 78, y: 6, zones: 3 },
      { name: 'ap-south', x: 125, y: 30, zones: 3 },
    ],
    zoneSpreadMs: 0.6, hostSpreadMs: 0.15, accessMinMs: 0.05, accessMaxMs: 0.5, jitter: 0.05,
    triangleViolators: 0.02, violationMin: 1.5, violationMax: 3,
  },
} as const satisfies Record<string, LatencySpec>;
export type LatencyPresetName = keyof typeof LATENCY_PRESETS;

/** What is wrong with a spec (empty when it is usable). */
export function latencySpecProblems(s: LatencySpec): string[] {
  const p: string[] = [];
  const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  const regions: readonly LatencySpec['regions'][number][] = (s.regions as unknown) instanceof Array ? s.regions : [];
  if (regions.length === 0) p.push('regions: expected at least one {name, x, y, zones}');
  regions.forEach((r, i) => {
    if (typeof r !== 'object' || (r as unknown) === null) {
      p.push(`regions[${i}]: expected {name, x, y, zones}`);
      return;
    }
    if (typeof r.name !== 'string' || r.name.length === 0) p.push(`regions[${i}].name: expected a non-empty string`);
    if (!finite(r.x) || !finite(r.y)) p.push(`regions[${i}]: x and y must be finite numbers (ms)`);
    if (!Number.isInteger(r.zones) || r.zones < 1 || r.zones > 1000) p.push(`regions[${i}].zones: expected a whole number in [1, 1000]`);
  });
  for (const k of ['zoneSpreadMs', 'hostSpreadMs', 'accessMinMs', 'accessMaxMs', 'jitter', 'triangleViolators'] as const) {
    if (!finite(s[k]) || s[k] < 0) p.push(`${k}: expected a number ≥ 0`);
  }
  if (finite(s.triangleViolators) && s.triangleViolators > 1) p.push('triangleViolators: expected a fraction in [0, 1]');
  if (finite(s.accessMinMs) && finite(s.accessMaxMs) && s.accessMaxMs < s.accessMinMs) p.push('accessMaxMs: must be at least accessMinMs');
  if (!finite(s.violationMin) || !finite(s.violationMax) || s.violationMin < 1 || s.violationMax < s.violationMin) p.push('violationMin, violationMax: expected 1 ≤ min ≤ max');
  return p;
}

/** A 32-bit mix of two node indexes (which peers a badly placed host detours to, and by how much). */
function pairHash(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  return (h >>> 0) / 4294967296;
}

export class LatencyModel {
  private readonly x: Float64Array;
  private readonly y: Float64Array;
  private readonly access: Float64Array;
  private readonly regionOf: Int32Array;
  private readonly zoneOf: Int32Array;
  private readonly violator: Uint8Array;

  /** Places `nodes` hosts: round-robin over the zones of all regions, offsets and access links from `rng`. */
  constructor(readonly spec: LatencySpec, rng: Rng, readonly nodes: number) {
    const problems = latencySpecProblems(spec);
    if (problems.length > 0) throw new RangeError(`latency model: ${problems.join('; ')}`);
    this.x = new Float64Array(nodes);
    this.y = new Float64Array(nodes);
    this.access = new Float64Array(nodes);
    this.regionOf = new Int32Array(nodes);
    this.zoneOf = new Int32Array(nodes);
    this.violator = new Uint8Array(nodes);
    const zones: { region: number; zone: number; x: number; y: number }[] = [];
    spec.regions.forEach((r, ri) => {
      for (let z = 0; z < r.zones; z++) {
        const [dx, dy] = inDisc(rng, spec.zoneSpreadMs);
        zones.push({ region: ri, zone: zones.length, x: r.x + dx, y: r.y + dy });
      }
    });
    for (let i = 0; i < nodes; i++) {
      const z = zones[i % zones.length] as (typeof zones)[number];
      const [dx, dy] = inDisc(rng, spec.hostSpreadMs);
      this.x[i] = z.x + dx;
      this.y[i] = z.y + dy;
      this.regionOf[i] = z.region;
      this.zoneOf[i] = z.zone;
      this.access[i] = spec.accessMinMs + rng.next() * (spec.accessMaxMs - spec.accessMinMs);
      this.violator[i] = rng.next() < spec.triangleViolators ? 1 : 0;
    }
  }

  /** The true round trip between two hosts (ms), without jitter. Symmetric; 0 to itself. */
  rttMs(x: number, y: number): number {
    if (x === y) return 0;
    // In one order whichever way it is asked: exactly symmetric.
    const a = Math.min(x, y);
    const b = Math.max(x, y);
    const dx = (this.x[a] as number) - (this.x[b] as number);
    const dy = (this.y[a] as number) - (this.y[b] as number);
    let rtt = 2 * Math.sqrt(dx * dx + dy * dy) + (this.access[a] as number) + (this.access[b] as number);
    if (this.violator[a] === 1 || this.violator[b] === 1) {
      const h = pairHash(a, b);
      if (h < 0.5) {
        const s = this.spec;
        rtt *= s.violationMin + (h * 2) * (s.violationMax - s.violationMin);
      }
    }
    return rtt;
  }

  /** One packet's one-way delay from `a` to `b`: half the true round trip, stretched by jitter. */
  oneWayMs(a: number, b: number, rng: Rng): number {
    const base = this.rttMs(a, b) / 2;
    const j = this.spec.jitter;
    return j > 0 ? base * (1 - Math.log(1 - rng.next()) * j) : base;
  }

  region(i: number): string {
    return this.spec.regions[this.regionOf[i] as number]?.name ?? '';
  }

  /** The zone's index over all regions. */
  zone(i: number): number {
    return this.zoneOf[i] as number;
  }

  isViolator(i: number): boolean {
    return this.violator[i] === 1;
  }
}

/** A uniform point in a disc of radius r. */
function inDisc(rng: Rng, r: number): [number, number] {
  const rho = r * Math.sqrt(rng.next());
  const theta = 2 * Math.PI * rng.next();
  return [rho * Math.cos(theta), rho * Math.sin(theta)];
}
