/**
 * The data directory cannot be used as it is: which file, why, and what the operator can do.
 * Nothing was written (a damaged store is never overwritten or reset). The agent exits 2.
 */
export class StoreError extends Error {
  override name = 'StoreError';

  constructor(
    /** The file or directory at fault. */
    readonly path: string,
    /** What is wrong with it (SQLite's or the OS's words included). */
    readonly problem: string,
    /** What the operator can do. */
    readonly advice: string,
  ) {
    super(`${path}: ${problem}. ${advice}`);
  }
}

const ELSEWHERE = 'or start with --data-dir pointing at another directory';

/** A StoreError for an error SQLite or the OS raised while opening `path`. */
export function storeOpenError(path: string, e: unknown): StoreError {
  const code = typeof e === 'object' && e !== null && 'code' in e ? String((e).code) : '';
  const msg = e instanceof Error ? e.message : String(e);
  switch (code) {
    case 'SQLITE_NOTADB':
    case 'SQLITE_CORRUPT':
    case 'SQLITE_CORRUPT_VTAB':
      return new StoreError(path, `${msg} (the store is damaged; it was left as it is)`,
        `Restore it from a backup; or move it aside (with its -wal and -shm files) and start with --recover to rejoin and refill from peers; ${ELSEWHERE}`);
    case 'SQLITE_CANTOPEN':
    case 'SQLITE_PERM':
    case 'SQLITE_READONLY':
    case 'SQLITE_READONLY_DIRECTORY':
    case 'SQLITE_AUTH':
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new StoreError(path, `${msg} (this user cannot write the file or its directory)`,
        `Check the owner and mode of the file and its directory (the agent needs to create and write state.db, state.db-wal, state.db-shm and state.meta there), ${ELSEWHERE}`);
    case 'ENOTDIR':
    case 'EEXIST':
      return new StoreError(path, `${msg} (a path component is not a directory)`, `Point --data-dir at a directory, ${ELSEWHERE.replace('or start', 'or start')}`);
    case 'SQLITE_FULL':
    case 'ENOSPC':
      return new StoreError(path, `${msg} (the disk is full)`, `Free space on its file system, ${ELSEWHERE}`);
    default:
      return new StoreError(path, msg, `Check the data directory, ${ELSEWHERE}`);
  }
}
