// The HTTP endpoints every Baton process serves: /metrics for Prometheus,
// /healthz (alive: the event loop answers) for the liveness probe and
// /readyz (caches synced, ready to act) for the readiness probe.
import { createServer, type Server } from 'node:http';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';

export interface HealthChecks {
  /** Returns undefined when ready, or why not. */
  ready: () => string | undefined;
}

export async function serveObservability(address: string, metrics: Metrics, checks: HealthChecks, log: Logger): Promise<Server> {
  const { host, port } = parseListenAddress(address);
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      metrics.registry
        .metrics()
        .then((body) => {
          res.writeHead(200, { 'content-type': metrics.registry.contentType });
          res.end(body);
        })
        .catch((err: unknown) => {
          res.writeHead(500);
          res.end(String(err));
        });
      return;
    }
    if (path === '/healthz' || path === '/livez') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok\n');
      return;
    }
    if (path === '/readyz') {
      const why = checks.ready();
      res.writeHead(why === undefined ? 200 : 503, { 'content-type': 'text/plain' });
      res.end(why === undefined ? 'ok\n' : `not ready: ${why}\n`);
      return;
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  log.info({ address: `${host}:${port}` }, 'serving /metrics, /healthz, /readyz');
  return server;
}

/** "host:port", ":port" (all interfaces) or "[v6]:port". */
export function parseListenAddress(address: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(address);
  if (m === null) throw new TypeError(`listen address must be host:port, got "${address}"`);
  const port = Number(m[3]);
  if (port > 65535) throw new TypeError(`port out of range in "${address}"`);
  return { host: m[1] ?? (m[2] === '' || m[2] === undefined ? '0.0.0.0' : m[2]), port };
}
