// A bare HTTPS request to the API server with a bearer token. The lab uses
// it for readiness probes and TokenRequest, before and beneath any client
// library, so a broken client never hides a broken control plane.
import { request } from 'node:https';

export interface ApiResponse {
  status: number;
  body: string;
}

export function apiRequest(
  server: string,
  ca: Buffer,
  token: string,
  method: string,
  path: string,
  body?: unknown,
  timeoutMs = 5_000,
): Promise<ApiResponse> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      new URL(path, server),
      {
        method,
        ca,
        timeout: timeoutMs,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          ...(payload !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}
