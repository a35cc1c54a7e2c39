import { request } from 'node:http';

/** An answer of the agent's HTTP API: status, parsed JSON (null if none), text and headers. */
export interface Answer { status: number; json: unknown; text: string; headers: Record<string, string | string[] | undefined> }

/**
 * One request through node:http, without a connection pool: the path and the bytes go exactly as
 * given (fetch would resolve `..` and re-encode, and refuses a `Host` header). State-changing
 * methods carry `Content-Type: application/json` unless `headers` say otherwise.
 */
export function raw(http: string, method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Answer> {
  const [host, port] = [http.slice(0, http.lastIndexOf(':')), Number(http.slice(http.lastIndexOf(':') + 1))];
  return new Promise((resolve, reject) => {
    const req = request({ host, port, method, path, agent: false, headers: { ...(body !== undefined || (method !== 'GET' && method !== 'HEAD') ? { 'content-type': 'application/json' } : {}), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = null;
        }
        resolve({ status: res.statusCode ?? 0, json, text, headers: res.headers });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}
