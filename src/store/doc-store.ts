/**
 * Durable state of replicated documents (Yjs, src/yjs): per document a snapshot (one encoded
 * state) and a tail of updates appended after it. A document's state is the merge of its
 * snapshot and its tail; `compactDoc` replaces both by one snapshot, so the store does not grow
 * with the number of edits. Bytes are opaque here (the yjs module encodes them).
 *
 * As in `StateStore`: every write returns once durable, and a write that throws wrote nothing.
 */

/** One update to append to a document's tail. */
export interface DocUpdate {
  readonly doc: string;
  readonly update: Uint8Array;
}

/** What the store holds of one document. */
export interface StoredDoc {
  readonly snapshot: Uint8Array | null;
  readonly updates: readonly Uint8Array[];
  /** Bytes of the tail (the sum of `updates`' lengths). */
  readonly tailBytes: number;
}

export interface DocStore {
  /** The document's snapshot and tail; `{snapshot: null, updates: []}` when it holds nothing. */
  loadDoc(doc: string): StoredDoc;
  /** Appends updates (to one or several documents) in one transaction. */
  appendDocUpdates(updates: readonly DocUpdate[]): void;
  /** Replaces the document's snapshot and drops its whole tail, in one transaction. */
  compactDoc(doc: string, snapshot: Uint8Array): void;
  /** The names of the documents held. */
  docNames(): string[];
}
