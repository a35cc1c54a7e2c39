/**
 * Branded identifiers. A raw `number` or `string` cannot be passed where one of these is
 * expected without going through the constructor functions below.
 */
declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

/** A member's unique name (memberlist's `Node`). */
export type NodeName = Brand<string, 'NodeName'>;
/** `host:port` (IPv6 hosts in brackets: `[::1]:7946`). Transport-neutral address of a peer. */
export type Address = Brand<string, 'Address'>;
/** memberlist incarnation number (uint32 on the wire). */
export type Incarnation = Brand<number, 'Incarnation'>;
/** Milliseconds: a point in (virtual or real) time, or a duration. */
export type Millis = Brand<number, 'Millis'>;

export const nodeName = (s: string): NodeName => s as NodeName;
export const address = (s: string): Address => s as Address;
export const incarnation = (n: number): Incarnation => n as Incarnation;
export const millis = (n: number): Millis => n as Millis;

/** Splits `host:port` / `[v6]:port`; returns undefined when malformed. */
export function splitAddress(a: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(a);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  return { host: (m[1] ?? m[2]) as string, port };
}

export function joinAddress(host: string, port: number): Address {
  return address(host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);
}
