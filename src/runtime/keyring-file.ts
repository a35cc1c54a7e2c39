import { readFile, rename, writeFile } from 'node:fs/promises';
import { Keyring } from '../wire/index.js';

/** A `keyringFile` that cannot give a keyring: named but missing (with no keys to start it from), unreadable or malformed. */
export class KeyringFileError extends Error {
  override name = 'KeyringFileError';
  constructor(readonly path: string, readonly reason: string) {
    super(`keyring file ${path}: ${reason}`);
  }
}

/**
 * The keyring a `keyringFile` holds (a JSON array of base64 keys, primary first). A missing
 * file is started from `seed` (the `keyring`/`encryptKey` options) when there is one; without
 * one, and for an unreadable or malformed file, it throws a `KeyringFileError` naming the path
 * and the reason: a keyring file that was asked for never turns encryption off.
 */
export async function loadKeyringFile(path: string, seed: readonly string[] | null): Promise<Keyring> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      if (seed !== null && seed.length > 0) {
        const keyring = keyringOf(path, seed);
        try {
          await writeKeyringFile(path, keyring);
        } catch (w) {
          throw new KeyringFileError(path, `cannot create it: ${w instanceof Error ? w.message : String(w)}`);
        }
        return keyring;
      }
      throw new KeyringFileError(path, 'no such file (create it with a JSON array of base64 keys, e.g. ["<gossip keygen>"], or pass an encryption key to start it from)');
    }
    throw new KeyringFileError(path, `cannot read it: ${code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : e instanceof Error ? e.message : String(e)}`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new KeyringFileError(path, `not valid JSON (${e instanceof Error ? e.message : String(e)}); expected a JSON array of base64 keys, primary first`);
  }
  if (!Array.isArray(v) || v.length === 0 || !v.every((k) => typeof k === 'string')) {
    throw new KeyringFileError(path, 'expected a non-empty JSON array of base64 keys, primary first');
  }
  return keyringOf(path, v);
}

function keyringOf(path: string, keys: readonly string[]): Keyring {
  try {
    return Keyring.fromBase64(keys);
  } catch (e) {
    throw new KeyringFileError(path, e instanceof Error ? e.message : String(e));
  }
}

/** Writes the keyring (primary first) atomically: a temporary file renamed over the old one. */
export async function writeKeyringFile(path: string, keyring: Keyring): Promise<void> {
  const keys = keyring.keys().map((k) => Buffer.from(k).toString('base64'));
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, path);
}
