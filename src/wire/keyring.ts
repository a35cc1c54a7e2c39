import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { WireError } from './result.js';

/**
 * memberlist's keyring and AES-GCM (reference §3.4): keys of 16, 24 or 32 bytes (AES-128/192/256);
 * the primary key encrypts, every key is tried in order to decrypt.
 *
 * Encrypted layout: `version:u8 | nonce:12 | ciphertext | tag:16`. Version 1 (memberlist
 * protocol ≥ 2, what serf sends) has no padding; version 0 PKCS#7-pads the plaintext to a
 * multiple of 16 first. UDP has no additional authenticated data; a TCP stream authenticates
 * its 5-byte `0a | len` header.
 */
export class Keyring {
  private list: Uint8Array[] = [];

  constructor(keys: readonly Uint8Array[], primary?: Uint8Array) {
    for (const k of keys) this.install(k);
    if (primary !== undefined) {
      this.install(primary);
      this.use(primary);
    }
  }

  /** From base64 strings (as `serf keygen` prints them); the first is the primary. Throws on a bad key. */
  static fromBase64(keys: readonly string[]): Keyring {
    return new Keyring(
      keys.map((s, i) => {
        if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s.trim())) throw new Error(`keyring: key ${i} is not base64`);
        const k = new Uint8Array(Buffer.from(s.trim(), 'base64'));
        validateKey(k, `key ${i}`);
        return k;
      }),
    );
  }

  /** Adds a key (at the end; the primary stays); a key already installed is left as it is. */
  install(key: Uint8Array): void {
    validateKey(key, 'install');
    if (this.indexOf(key) < 0) this.list.push(key.slice());
  }

  /** Makes an installed key the primary (the one that encrypts). Throws if it is not installed. */
  use(key: Uint8Array): void {
    const i = this.indexOf(key);
    if (i < 0) throw new Error('keyring: requested key is not in the keyring');
    const [k] = this.list.splice(i, 1);
    this.list.unshift(k as Uint8Array);
  }

  /** Removes a key; the primary cannot be removed (as in memberlist). */
  remove(key: Uint8Array): void {
    const i = this.indexOf(key);
    if (i === 0) throw new Error('keyring: removing the primary key is not allowed');
    if (i > 0) this.list.splice(i, 1);
  }

  keys(): Uint8Array[] {
    return this.list.map((k) => k.slice());
  }

  primary(): Uint8Array | null {
    const k = this.list[0];
    return k === undefined ? null : k.slice();
  }

  /** The installed keys in order, without copying (wire-internal). */
  get installed(): readonly Uint8Array[] {
    return this.list;
  }

  private indexOf(key: Uint8Array): number {
    return this.list.findIndex((k) => equalBytes(k, key));
  }
}

function validateKey(k: Uint8Array, what: string): void {
  if (k.length !== 16 && k.length !== 24 && k.length !== 32) throw new Error(`keyring: ${what} is ${k.length} bytes; a key must be 16, 24 or 32 bytes`);
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const BLOCK_BYTES = 16;
/** Overhead of an encrypted payload: version 1 is 29 bytes, version 0 adds 1–16 bytes of padding. */
export const ENCRYPT_OVERHEAD_BYTES = 1 + NONCE_BYTES + TAG_BYTES;

function cipherName(key: Uint8Array): 'aes-128-gcm' | 'aes-192-gcm' | 'aes-256-gcm' {
  return key.length === 16 ? 'aes-128-gcm' : key.length === 24 ? 'aes-192-gcm' : 'aes-256-gcm';
}

/** Length of `encrypt(version, …, plain)`'s output. */
export function encryptedLength(version: 0 | 1, plainBytes: number): number {
  return ENCRYPT_OVERHEAD_BYTES + (version === 0 ? plainBytes + (BLOCK_BYTES - (plainBytes % BLOCK_BYTES)) : plainBytes);
}

/** Encrypts with AES-GCM as memberlist's `encryptPayload`; `nonce` is random unless given (tests). */
export function encrypt(version: 0 | 1, key: Uint8Array, plain: Uint8Array, aad: Uint8Array | null, nonce?: Uint8Array): Uint8Array {
  const iv = nonce ?? randomBytes(NONCE_BYTES);
  let data = plain;
  if (version === 0) {
    const pad = BLOCK_BYTES - (plain.length % BLOCK_BYTES);
    data = new Uint8Array(plain.length + pad);
    data.set(plain);
    data.fill(pad, plain.length);
  }
  const c = createCipheriv(cipherName(key), key, iv);
  if (aad !== null && aad.length > 0) c.setAAD(aad);
  const body = c.update(data);
  c.final();
  const tag = c.getAuthTag();
  const out = new Uint8Array(1 + NONCE_BYTES + body.length + TAG_BYTES);
  out[0] = version;
  out.set(iv, 1);
  out.set(body, 1 + NONCE_BYTES);
  out.set(tag, 1 + NONCE_BYTES + body.length);
  return out;
}

/**
 * Decrypts with the first key that authenticates (memberlist's `decryptPayload`). Throws
 * `WireError('decrypt-failed')` when no key does, the version is unknown or it is too short.
 */
export function decrypt(keys: readonly Uint8Array[], buf: Uint8Array, aad: Uint8Array | null): Uint8Array {
  if (buf.length === 0) throw new WireError('decrypt-failed', 'cannot decrypt empty payload');
  const version = buf[0] as number;
  if (version > 1) throw new WireError('decrypt-failed', `unsupported encryption version ${version}`);
  const min = version === 0 ? ENCRYPT_OVERHEAD_BYTES + BLOCK_BYTES : ENCRYPT_OVERHEAD_BYTES;
  if (buf.length < min) throw new WireError('decrypt-failed', `payload of ${buf.length} bytes is too small to decrypt (min ${min})`);
  if (keys.length === 0) throw new WireError('decrypt-failed', 'no installed keys');
  const iv = buf.subarray(1, 1 + NONCE_BYTES);
  const body = buf.subarray(1 + NONCE_BYTES, buf.length - TAG_BYTES);
  const tag = buf.subarray(buf.length - TAG_BYTES);
  for (const key of keys) {
    let plain: Uint8Array;
    try {
      const d = createDecipheriv(cipherName(key), key, iv);
      d.setAuthTag(tag);
      if (aad !== null && aad.length > 0) d.setAAD(aad);
      const p = d.update(body);
      d.final();
      plain = p;
    } catch {
      continue;
    }
    if (version === 0) {
      const pad = plain[plain.length - 1] ?? 0;
      if (pad === 0 || pad > BLOCK_BYTES || pad > plain.length) throw new WireError('decrypt-failed', `bad PKCS#7 padding ${pad}`);
      return new Uint8Array(plain.buffer, plain.byteOffset, plain.length - pad);
    }
    return new Uint8Array(plain.buffer, plain.byteOffset, plain.length);
  }
  throw new WireError('decrypt-failed', 'no installed keys could decrypt the message');
}
