// A thin JSON client for the Kubernetes API on top of the client library's
// KubeConfig (which handles kubeconfig files, in-cluster tokens and exec
// plugins). Objects come back exactly as the API server sent them, the same
// shape the watch stream delivers, so an informer's cache never mixes
// parsed Dates with strings. Every request is counted by verb for metrics
// and benchmarks.
import { Agent, type RequestOptions, request } from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import { ApiError, codeForStatus } from './api-error.js';

export type Verb = 'get' | 'list' | 'create' | 'update' | 'patch' | 'delete';

export interface RequestOutcome {
  verb: Verb;
  status: number;
  durationMs: number;
}

export interface ApiClientOptions {
  /** Per-request timeout; a write that hangs longer is treated as failed (the API server's own default is 60 s). */
  timeoutMs?: number;
  onRequest?: (outcome: RequestOutcome) => void;
}

export interface RequestSpec {
  verb: Verb;
  path: string;
  query?: Record<string, string | undefined>;
  body?: unknown;
  /** For patch: merge-patch+json (default) or json-patch+json. */
  contentType?: string;
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 15_000;
const METHODS: Record<Verb, string> = { get: 'GET', list: 'GET', create: 'POST', update: 'PUT', patch: 'PATCH', delete: 'DELETE' };

export function loadKubeConfig(kubeconfigPath?: string): KubeConfig {
  const kc = new KubeConfig();
  if (kubeconfigPath !== undefined && kubeconfigPath !== '') kc.loadFromFile(kubeconfigPath);
  else kc.loadFromDefault();
  return kc;
}

export class ApiClient {
  readonly kubeConfig: KubeConfig;
  private readonly timeoutMs: number;
  private readonly onRequest: ((o: RequestOutcome) => void) | undefined;
  // Keep-alive: a speaker's steady state is one small write a second; a new TLS handshake each time would cost more than the write.
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 16 });

  constructor(kubeConfig: KubeConfig, options: ApiClientOptions = {}) {
    this.kubeConfig = kubeConfig;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.onRequest = options.onRequest;
  }

  get server(): string {
    const cluster = this.kubeConfig.getCurrentCluster();
    if (cluster === null) throw new ApiError('K8S_CONNECTION_FAILED', 0, 'kubeconfig has no current cluster');
    return cluster.server;
  }

  async request<T>(spec: RequestSpec): Promise<T> {
    const url = new URL(spec.path, this.server);
    for (const [k, v] of Object.entries(spec.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    const opts: RequestOptions = { method: METHODS[spec.verb], headers: { accept: 'application/json' } };
    await this.kubeConfig.applyToHTTPSOptions(opts);
    const payload = spec.body === undefined ? undefined : JSON.stringify(spec.body);
    const headers: Record<string, string | number> = { ...(opts.headers as Record<string, string>) };
    if (payload !== undefined) {
      headers['content-type'] = spec.contentType ?? (spec.verb === 'patch' ? 'application/merge-patch+json' : 'application/json');
      headers['content-length'] = Buffer.byteLength(payload);
    }
    const timeoutMs = spec.timeoutMs ?? this.timeoutMs;
    const started = performance.now();
    let status = 0;
    try {
      const { status: s, body } = await send(url, { ...opts, headers, agent: this.agent, timeout: timeoutMs }, payload, timeoutMs);
      status = s;
      if (s >= 200 && s < 300) return (body === '' ? undefined : JSON.parse(body)) as T;
      throw statusError(spec, s, body);
    } finally {
      this.onRequest?.({ verb: spec.verb, status, durationMs: performance.now() - started });
    }
  }

  get<T>(path: string, query?: RequestSpec['query']): Promise<T> {
    return this.request<T>({ verb: 'get', path, query });
  }

  list<T>(path: string, query?: RequestSpec['query']): Promise<T> {
    return this.request<T>({ verb: 'list', path, query });
  }

  create<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>({ verb: 'create', path, body });
  }

  /** PUT: optimistic concurrency comes from metadata.resourceVersion in the body. */
  update<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>({ verb: 'update', path, body });
  }

  patch<T>(path: string, body: unknown, contentType?: string): Promise<T> {
    return this.request<T>({ verb: 'patch', path, body, contentType });
  }

  delete<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>({ verb: 'delete', path, body });
  }

  close(): void {
    this.agent.destroy();
  }
}

function send(url: URL, opts: RequestOptions, payload: string | undefined, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, opts, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (err) =>
        reject(new ApiError('K8S_CONNECTION_FAILED', 0, `${opts.method} ${url.pathname}: ${err.message}`, undefined, { cause: err })),
      );
    });
    req.on('timeout', () => req.destroy(new ApiError('K8S_TIMEOUT', 0, `${opts.method} ${url.pathname}: no answer in ${timeoutMs} ms`)));
    req.on('error', (err) => {
      reject(
        err instanceof ApiError
          ? err
          : new ApiError('K8S_CONNECTION_FAILED', 0, `${opts.method} ${url.pathname}: ${err.message}`, undefined, { cause: err }),
      );
    });
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

function statusError(spec: RequestSpec, status: number, body: string): ApiError {
  let reason: string | undefined;
  let message = body.slice(0, 500);
  try {
    const parsed = JSON.parse(body) as { reason?: string; message?: string };
    reason = parsed.reason;
    if (parsed.message !== undefined) message = parsed.message;
  } catch {
    // not a Status object; keep the raw text
  }
  return new ApiError(codeForStatus(status, reason), status, `${METHODS[spec.verb]} ${spec.path}: ${status} ${message}`, reason);
}
