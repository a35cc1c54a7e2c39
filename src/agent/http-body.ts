import type { IncomingMessage } from 'node:http';

/** A request the API refuses: its status and a message for the client (`{"error": message}`). */
export class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly headers: Readonly<Record<string, string>> = {}) {
    super(message);
  }
}

/** Deepest nesting of arrays and objects a JSON body may have (deeper: 400, never a stack overflow). */
export const JSON_DEPTH_MAX = 64;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads and parses a JSON body of at most `maxBytes` (`limit` names the setting in the 413).
 * Refused with a 4xx: over the size (413), not UTF-8, not JSON, nested deeper than
 * `JSON_DEPTH_MAX` (400). `optional`: an empty body is undefined.
 */
export async function readJson(req: IncomingMessage, maxBytes: number, limit: string, optional = false): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  // Refused without reading the rest: the answer closes the connection (see HttpApi.fail), so a
  // 2 GB body costs what the socket buffers hold, not 2 GB of reading.
  if (declared > maxBytes) {
    throw new HttpError(413, `body is ${declared} bytes, over the limit of ${maxBytes} (${limit})`);
  }
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req) {
    const chunk = c as Buffer;
    n += chunk.length;
    if (n > maxBytes) {
      throw new HttpError(413, `body is over the limit of ${maxBytes} bytes (${limit})`);
    }
    chunks.push(chunk);
  }
  let text: string;
  try {
    text = utf8.decode(Buffer.concat(chunks));
  } catch {
    throw new HttpError(400, 'body: not valid UTF-8');
  }
  if (text.trim() === '') {
    if (optional) return undefined;
    throw new HttpError(400, 'body: expected JSON, got nothing');
  }
  const depth = jsonDepth(text);
  if (depth > JSON_DEPTH_MAX) throw new HttpError(400, `body: JSON nested ${depth} levels deep, over the limit of ${JSON_DEPTH_MAX}`);
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new HttpError(400, `malformed JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** The deepest bracket nesting of JSON text (brackets inside strings skipped), without recursion. */
export function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      depth++;
      if (depth > max) max = depth;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}
