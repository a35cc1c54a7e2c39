import type { ClusterNode, Coordinate } from '../index.js';
import { HttpError } from './http-body.js';
import type { Route } from './kv-routes.js';

/** A node's network coordinate as the API reports it (Serf's `Coordinate`: seconds; `error` dimensionless). */
export interface CoordinateJson {
  readonly node: string;
  readonly coordinate: { readonly vec: readonly number[]; readonly error: number; readonly adjustment: number; readonly height: number };
}

/** `GET /v1/rtt`: the round trip between two nodes estimated from their coordinates (what `serf rtt` prints). */
export interface RttJson {
  readonly a: string;
  readonly b: string;
  readonly rttMs: number;
}

const json = (node: string, c: Coordinate): CoordinateJson => ({
  node, coordinate: { vec: [...c.vec], error: c.error, adjustment: c.adjustment, height: c.height },
});

/**
 * Network coordinates (Serf's, what `serf rtt` reads over RPC): `GET /v1/coordinate` (ours, or
 * `?node=NAME`'s as last heard from it; 404 if none is known) and `GET /v1/coordinates`
 * (ours and every member's known one), and `GET /v1/rtt?a=NAME[&b=NAME]` (their estimated round
 * trip; `b` defaults to us). With coordinates disabled all answer 404.
 */
export class CoordinateRoutes {
  constructor(private readonly node: ClusterNode) {}

  register(route: Route): void {
    route('GET', /^\/v1\/coordinate$/, (_r, q) => this.one(q));
    route('GET', /^\/v1\/coordinates$/, () => this.all());
    route('GET', /^\/v1\/rtt$/, (_r, q) => this.rtt(q));
  }

  private one(q: URLSearchParams): CoordinateJson {
    const name = q.get('node') ?? this.node.name;
    if (name.length === 0) throw new HttpError(400, 'node: expected a node name');
    const c = this.node.coordinate(name);
    if (c === undefined) throw new HttpError(404, `no coordinate known for node ${JSON.stringify(name)}`);
    return json(name, c);
  }

  private rtt(q: URLSearchParams): RttJson {
    const a = q.get('a');
    const b = q.get('b') ?? this.node.name;
    if (a === null || a.length === 0 || b.length === 0) throw new HttpError(400, 'a: expected a node name (and b, default this node)');
    for (const n of [a, b]) if (this.node.coordinate(n) === undefined) throw new HttpError(404, `Could not find a coordinate for node ${JSON.stringify(n)}`);
    return { a, b, rttMs: this.node.estimateRtt(a, b) as number };
  }

  private all(): CoordinateJson[] {
    if (this.node.coordinate() === undefined) throw new HttpError(404, 'network coordinates are disabled');
    const out: CoordinateJson[] = [];
    for (const m of this.node.members()) {
      const c = this.node.coordinate(m.name);
      if (c !== undefined) out.push(json(m.name, c));
    }
    return out;
  }
}
