import type { ChildProcess } from 'node:child_process';

/** Which implementation a node runs. */
export type Side = 'ours' | 'serf';

export interface MemberStatus {
  readonly name: string;
  readonly status: string;
}

/** A delivery of a bench message (user event or key write) at a node, stamped when the bench saw it. */
export interface Arrival {
  readonly id: string;
  readonly atMs: number;
}

/**
 * One agent process of either side, as the bench drives it. Both sides answer the same
 * questions so that the scenario is written once.
 */
export interface BenchNode {
  readonly side: Side;
  readonly name: string;
  readonly gossipPort: number;
  /** The current process (a restart replaces it). */
  readonly proc: ChildProcess | null;
  readonly pid: number | null;
  /** Starts the process and resolves once its API answers; `join`: the gossip address to join through. */
  start(join: string | null): Promise<void>;
  /** kill -9; the data dir stays. */
  kill(): Promise<void>;
  /** Starts the process again with its first arguments (and its data dir). */
  restart(): Promise<void>;
  members(): Promise<MemberStatus[]>;
  /** Asks the running agent to join through `addr` (ours: `POST /v1/join`; serf: the RPC `join`, on a connection of its own); resolves when it answered. */
  join(addr: string): Promise<void>;
  /** Sends a user event named `bench` with `payload` from this node. */
  sendEvent(payload: string): Promise<void>;
  /** User events named `bench` this node delivered so far, every delivery (duplicates too). */
  eventArrivals(): Arrival[];
  /** Names of members its log says were suspected: by this node as prober, or itself (a refutation); ours and serf's alike. */
  suspected(): Set<string>;
  /** Starts watching deliveries (ours opens its stream); a no-op when already watching. */
  watch(): Promise<void>;
  /** Stops watching (ours closes its stream, which costs the agent a little every second). */
  unwatch(): void;
  /** Releases the client side (sockets); the process is stopped by the launcher. */
  close(): void;
}

/** The gossip address on loopback. */
export const loopback = (port: number): string => `127.0.0.1:${port}`;

/** True when `err` (or a log text) says a port was taken between our probe and the bind. */
function addressInUse(text: string): boolean {
  return /address already in use|EADDRINUSE/i.test(text);
}

/**
 * Starts a node up to three times: a port probed free can be taken before the node binds it, so
 * `attempt` (which draws fresh ports each time) is repeated when the failure says so.
 */
export async function startWithFreshPorts(attempt: () => Promise<void>): Promise<void> {
  for (let n = 1; ; n++) {
    try {
      await attempt();
      return;
    } catch (e) {
      if (n >= 3 || !addressInUse(String(e))) throw e;
    }
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
