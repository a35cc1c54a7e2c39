/**
 * The FIFO behind every `pollTransmit()` / `pollEvent()`: `push` appends, `poll` hands out the
 * oldest item or undefined. Items are read through a head index (no `shift`, which is O(n));
 * a polled slot is cleared at once so the item can be collected, and the array is reset when
 * the queue runs dry, so a queue drained after every input never grows.
 */
export class PollQueue<T> {
  private readonly items: (T | undefined)[] = [];
  private head = 0;

  /** Items pushed and not yet polled. */
  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  poll(): T | undefined {
    if (this.head >= this.items.length) {
      if (this.head > 0) this.clear();
      return undefined;
    }
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    return item;
  }

  /** The oldest item, left in the queue. */
  peek(): T | undefined {
    return this.head < this.items.length ? this.items[this.head] : undefined;
  }

  /** Drops everything pending. */
  clear(): void {
    this.items.length = 0;
    this.head = 0;
  }
}
