import type { ClusterNode, MembershipView } from '../index.js';
import { checksumHex } from '../index.js';
import { HttpError } from './http-body.js';
import type { Route } from './kv-routes.js';

/** A view as the HTTP API shows it (checksums as 8 hex digits). */
export interface ViewJson {
  readonly epoch: number;
  readonly checksum: string;
  readonly members: readonly { readonly name: string; readonly state: string; readonly incarnation: number }[];
}

/** `GET /v1/view`. */
export interface ViewResponse {
  readonly current: ViewJson;
  /** The current view is the last stable one. */
  readonly stable: boolean;
  readonly stableView: ViewJson | null;
  /** Live members not (yet) seen holding the current view, with the checksum they last reported. */
  readonly disagreeing: readonly { readonly name: string; readonly checksum: string | null }[];
}

/** `GET /v1/quorum`. */
export interface QuorumResponse {
  readonly hasQuorum: boolean;
  readonly reachable: number;
  readonly total: number;
  readonly needMoreThan: number;
  readonly basis: { readonly epoch: number; readonly checksum: string; readonly members: readonly string[] } | null;
}

/** `GET /v1/ring/lookup?key=K&n=3&tag=k=v`. */
export interface RingLookupResponse {
  readonly key: string;
  readonly owners: readonly string[];
  readonly ring: { readonly checksum: string; readonly members: number; readonly pointsPerMember: number };
}

function viewJson(v: MembershipView): ViewJson {
  return { epoch: v.epoch, checksum: checksumHex(v.checksum), members: v.members.map((m) => ({ name: m.name, state: m.state, incarnation: m.incarnation })) };
}

/** The quorum manager's routes (issue 16): `GET /v1/view`, `GET /v1/quorum`, `GET /v1/ring/lookup`. */
export class ViewRoutes {
  constructor(private readonly node: ClusterNode) {}

  register(route: Route): void {
    route('GET', /^\/v1\/view$/, () => this.view());
    route('GET', /^\/v1\/quorum$/, () => this.quorum());
    route('GET', /^\/v1\/ring\/lookup$/, (_r, q) => this.lookup(q));
  }

  private view(): ViewResponse {
    const v = this.node.view();
    return {
      current: viewJson(v.current), stable: v.isStable, stableView: v.stable === null ? null : viewJson(v.stable),
      disagreeing: v.disagreeing.map((d) => ({ name: d.name, checksum: d.checksum === null ? null : checksumHex(d.checksum) })),
    };
  }

  private quorum(): QuorumResponse {
    const q = this.node.quorum();
    return {
      hasQuorum: q.hasQuorum, reachable: q.reachable, total: q.total, needMoreThan: q.needMoreThan,
      basis: q.basis === null ? null : { epoch: q.basis.epoch, checksum: checksumHex(q.basis.checksum), members: [...q.basis.weights.keys()] },
    };
  }

  private lookup(q: URLSearchParams): RingLookupResponse {
    const key = q.get('key');
    if (key === null || key.length === 0) throw new HttpError(400, 'key: required (?key=...)');
    const nRaw = q.get('n') ?? '1';
    const n = Number(nRaw);
    if (!Number.isInteger(n) || n < 1 || n > 1000) throw new HttpError(400, `n: expected a whole number in [1, 1000], got ${nRaw}`);
    const tags: Record<string, string> = {};
    for (const t of q.getAll('tag')) {
      const eq = t.indexOf('=');
      if (eq <= 0) throw new HttpError(400, `tag: expected k=v, got ${t}`);
      tags[t.slice(0, eq)] = t.slice(eq + 1);
    }
    const ring = this.node.ring(Object.keys(tags).length > 0 ? { tags } : {});
    return { key, owners: ring.lookupN(key, n), ring: { checksum: ring.checksum, members: ring.size, pointsPerMember: ring.pointsPerMember } };
  }
}
