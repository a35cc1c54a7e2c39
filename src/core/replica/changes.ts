import { PollQueue } from '../poll-queue.js';

export interface ChangeEvent {
  readonly subscription: number;
  readonly key: string;
  /** local: an operation on this replica; merge: a peer's entry; collect: tombstone collected. */
  readonly cause: 'local' | 'merge' | 'collect';
  /** The key reads as absent now (deleted or collected). */
  readonly deleted: boolean;
}

interface Subscriber {
  readonly id: number;
  readonly prefix: string;
  readonly callback: ((e: ChangeEvent) => void) | undefined;
}

/** Change notification: each change of a key goes to the subscribers of a prefix of it, by callback or queued for polling. */
export class ChangeFeed {
  private subscribers: Subscriber[] = [];
  private nextSubscription = 1;
  private readonly queue = new PollQueue<ChangeEvent>();

  /** Whether anyone listens (a change is not even described otherwise). */
  get active(): boolean {
    return this.subscribers.length > 0;
  }

  subscribe(prefix: string, callback?: (e: ChangeEvent) => void): number {
    const id = this.nextSubscription++;
    this.subscribers = [...this.subscribers, { id, prefix, callback }];
    return id;
  }

  unsubscribe(id: number): boolean {
    const n = this.subscribers.length;
    this.subscribers = this.subscribers.filter((s) => s.id !== id);
    return this.subscribers.length < n;
  }

  poll(): ChangeEvent | undefined {
    return this.queue.poll();
  }

  emit(key: string, cause: ChangeEvent['cause'], deleted: boolean): void {
    const subs = this.subscribers;
    for (let i = 0; i < subs.length; i++) {
      const s = subs[i] as Subscriber;
      if (!key.startsWith(s.prefix)) continue;
      const e: ChangeEvent = { subscription: s.id, key, cause, deleted };
      if (s.callback !== undefined) s.callback(e);
      else this.queue.push(e);
    }
  }
}
