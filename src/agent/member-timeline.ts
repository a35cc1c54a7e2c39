import type { ClusterNode } from '../index.js';

/** What happened to a member, as the dashboard's timeline and `GET /v1/timeline` name it. */
export type TimelineKind = 'joined' | 'rejoined' | 'suspect' | 'recovered' | 'failed' | 'left' | 'updated' | 'reaped';

export interface TimelineEntry {
  /** When this node saw it (ms since the epoch). */
  readonly atMs: number;
  readonly name: string;
  readonly kind: TimelineKind;
  /** The member's address (`host:port`), for joins. */
  readonly addr?: string;
}

/** Entries kept (the oldest go first). */
export const TIMELINE_ENTRIES_MAX = 200;

/**
 * The membership changes this node has seen since it started, newest last and at most
 * `TIMELINE_ENTRIES_MAX`: joins (a name seen failed or left before joins again: `rejoined`),
 * suspicions, recoveries, failures, leaves, tag updates and reaps. What the dashboard shows on
 * load before its stream goes live (`GET /v1/timeline`).
 */
export class MemberTimeline {
  private readonly entries: TimelineEntry[] = [];
  /** Names seen failed or left (a later join of one is a rejoin). */
  private readonly gone = new Set<string>();

  constructor(node: ClusterNode, private readonly now: () => number = Date.now, private readonly max = TIMELINE_ENTRIES_MAX) {
    node.on('member-joined', (e) => {
      this.add(e.member.name, this.gone.delete(e.member.name) ? 'rejoined' : 'joined', e.member.addr);
    });
    node.on('member-suspected', (e) => this.add(e.member.name, 'suspect'));
    node.on('member-recovered', (e) => this.add(e.member.name, 'recovered'));
    node.on('member-failed', (e) => {
      this.gone.add(e.member.name);
      this.add(e.member.name, 'failed');
    });
    node.on('member-left', (e) => {
      this.gone.add(e.member.name);
      this.add(e.member.name, 'left');
    });
    node.on('member-updated', (e) => this.add(e.member.name, 'updated'));
    node.on('member-reaped', (e) => this.add(e.member.name, 'reaped'));
  }

  /** The entries, oldest first. */
  list(): readonly TimelineEntry[] {
    return [...this.entries];
  }

  private add(name: string, kind: TimelineKind, addr?: string): void {
    this.entries.push({ atMs: this.now(), name, kind, ...(addr !== undefined ? { addr } : {}) });
    if (this.entries.length > this.max) this.entries.shift();
  }
}
