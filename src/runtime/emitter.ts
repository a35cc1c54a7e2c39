/** Event name → payload, derived from a union discriminated on `type`. */
export type EventMap<E extends { readonly type: string }> = { [K in E['type']]: Extract<E, { readonly type: K }> };

export type Listener<T> = (event: T) => void;

/**
 * A small typed emitter: `on(type, fn)` with the payload type following the name. A listener
 * that throws is reported through `onListenerError` and does not stop the others.
 */
export class TypedEmitter<E extends { readonly type: string }> {
  private readonly listeners = new Map<string, Set<Listener<never>>>();
  private readonly any = new Set<Listener<E>>();

  constructor(private readonly onListenerError: (type: string, error: unknown) => void) {}

  on<K extends E['type']>(type: K, fn: Listener<EventMap<E>[K]>): () => void {
    let set = this.listeners.get(type);
    if (set === undefined) this.listeners.set(type, (set = new Set()));
    set.add(fn);
    return () => this.off(type, fn);
  }

  once<K extends E['type']>(type: K, fn: Listener<EventMap<E>[K]>): () => void {
    const off = this.on(type, (e) => {
      off();
      fn(e);
    });
    return off;
  }

  off<K extends E['type']>(type: K, fn: Listener<EventMap<E>[K]>): void {
    this.listeners.get(type)?.delete(fn);
  }

  /** Every event, whatever its type. */
  onAny(fn: Listener<E>): () => void {
    this.any.add(fn);
    return () => this.any.delete(fn);
  }

  emit(e: E): void {
    const set = this.listeners.get(e.type);
    if (set !== undefined) {
      for (const fn of [...set]) {
        try {
          (fn as Listener<E>)(e);
        } catch (err) {
          this.onListenerError(e.type, err);
        }
      }
    }
    for (const fn of [...this.any]) {
      try {
        fn(e);
      } catch (err) {
        this.onListenerError(e.type, err);
      }
    }
  }
}
