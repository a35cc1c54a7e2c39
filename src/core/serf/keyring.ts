/**
 * What Serf's internal key queries need from the keyring (`_serf_list-keys`, `install-key`,
 * `use-key`, `remove-key`; reference §8.8). The runtime passes the keyring its transport
 * encrypts with (the wire layer's `Keyring` has exactly this shape), so a rotation applies to
 * the next packet. Operations throw an `Error` whose message goes back to the asker.
 */
export interface SerfKeyring {
  /** Every installed key, primary first. */
  keys(): readonly Uint8Array[];
  primary(): Uint8Array | null;
  install(key: Uint8Array): void;
  use(key: Uint8Array): void;
  remove(key: Uint8Array): void;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const sextet = (n: number): string => ALPHABET.charAt(n & 63);

/** Standard base64 with padding (Go's `base64.StdEncoding`), as key lists travel. */
export function encodeBase64(b: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < b.length; i += 3) {
    const n = ((b[i] as number) << 16) | ((b[i + 1] as number) << 8) | (b[i + 2] as number);
    out += sextet(n >>> 18) + sextet(n >>> 12) + sextet(n >>> 6) + sextet(n);
  }
  const rest = b.length - i;
  if (rest === 1) {
    const n = (b[i] as number) << 16;
    out += `${sextet(n >>> 18)}${sextet(n >>> 12)}==`;
  } else if (rest === 2) {
    const n = ((b[i] as number) << 16) | ((b[i + 1] as number) << 8);
    out += `${sextet(n >>> 18)}${sextet(n >>> 12)}${sextet(n >>> 6)}=`;
  }
  return out;
}
