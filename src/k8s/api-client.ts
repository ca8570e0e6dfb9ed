// A thin JSON client for the Kubernetes API over node:http(s), reaching the
// server that kubeconfig.ts found with the credentials request-credentials.ts
// applies. Objects come back exactly as the API server sent them, the same
// shape the watch stream delivers, so an informer's cache never mixes
// parsed Dates with strings. Every request is counted for metrics and
// benchmarks.
//
// This is Baton's only door to the API server, so it must never be the
// reason a healthy speaker is judged dead. Two rules see to that:
//   - Lanes. Requests travel in named lanes, each with its own connection
//     pool, so a liveness renewal never queues behind Events, relists or a
//     burst of IP-lease writes (one shared pool let a 1 s renewal wait
//     behind slow requests for as long as they took).
//   - Deadlines cover queueing. node:http starts a request's `timeout` only
//     once a socket is assigned; here the deadline starts when request() is
//     called, and covers waiting for credentials, for a free connection,
//     and for the answer.
// Both http: and https: servers are served (kubectl proxy, a test's fake
// API server).
import * as http from 'node:http';
import * as https from 'node:https';
import { type Clock, SystemClock } from '../clock.js';
import { ApiError, errorFromStatus, type WireStatus } from './api-error.js';
import { resourceOf } from './api-resource.js';
import type { ApiAccess } from './kubeconfig.js';
import { type CredentialOptions, credentialsFor, type RequestCredentials } from './request-credentials.js';

export type Verb = 'get' | 'list' | 'create' | 'update' | 'patch' | 'delete';

/**
 * Connection pools, one per kind of traffic. A lane only ever waits for
 * requests of its own kind.
 */
export const API_LANES = ['liveness', 'leases', 'default', 'watch'] as const;
export type ApiLane = (typeof API_LANES)[number];

/** Sockets per lane (the most requests of that lane in flight at once; more wait in the lane's own queue). */
export const LANE_SOCKETS: Readonly<Record<ApiLane, number>> = {
  // The speaker's own liveness renewals, nothing else. One renewal is in flight at a time; the second socket is for
  // the renewal issued while the previous one still hangs on a dead connection until its deadline.
  liveness: 2,
  // IP-lease reads and writes. A takeover after a node death writes one Lease per IP won: four at a time gets a
  // burst through without one slow write holding back the rest, and stays a small share of the API server's
  // inflight limit for every speaker of a large cluster.
  leases: 4,
  // Everything else: relists, status and finalizer patches, Events (at most EVENT_CONCURRENCY of these sockets).
  // 16 is the single pool this client had before lanes, so the controller's reconcile throughput is unchanged.
  default: 16,
  // Long-lived watch streams, one per informer: a cap would only make one watch wait for another to end.
  watch: Number.POSITIVE_INFINITY,
};

export interface RequestOutcome {
  verb: Verb | 'watch';
  /** The resource the path names ("leases", "services/status"; see resourceOf). */
  resource: string;
  lane: ApiLane;
  /** HTTP status, 0 when no answer came back. */
  status: number;
  durationMs: number;
}

export interface ApiClientOptions {
  /** Default deadline of a request, queueing included; the API server's own default is 60 s. */
  timeoutMs?: number;
  /** Called once per request, watches included, whatever its outcome. */
  onRequest?: (outcome: RequestOutcome) => void;
  /** Overrides LANE_SOCKETS per lane. */
  laneSockets?: Partial<Record<ApiLane, number>>;
  clock?: Clock;
}

export interface RequestSpec {
  verb: Verb;
  path: string;
  query?: Record<string, string | undefined>;
  body?: unknown;
  /** For patch: merge-patch+json (default) or json-patch+json. */
  contentType?: string;
  /** Deadline from the call of request() to the end of the answer. */
  timeoutMs?: number;
  /** Default 'default'. */
  lane?: ApiLane;
}

export interface WatchSpec {
  /** Collection path; `watch=true` is added. */
  path: string;
  query?: Record<string, string | undefined>;
  /** Aborting it abandons the watch, whether it is still opening or already streaming; it rejects with signal.reason. */
  signal: AbortSignal;
  /** Default 'watch'. */
  lane?: ApiLane;
}

// A request's deadline when the caller gives none: a relist of a large cluster fits, a hung connection is noticed.
const DEFAULT_TIMEOUT_MS = 15_000;
// Kept of a refusal's body in the error message when it is not a Status object: enough to recognise a proxy's page.
const MAX_RAW_BODY_IN_MESSAGE = 500;
const METHODS: Record<Verb, string> = { get: 'GET', list: 'GET', create: 'POST', update: 'PUT', patch: 'PATCH', delete: 'DELETE' };

export class ApiClient {
  private readonly access: ApiAccess;
  private readonly timeoutMs: number;
  private readonly onRequest: ((o: RequestOutcome) => void) | undefined;
  private readonly laneSockets: Readonly<Record<ApiLane, number>>;
  private readonly clock: Clock;
  // Keep-alive: a speaker's steady state is one small write every half second; a new TLS handshake each time would
  // cost more than the write. One pool per lane and scheme, made on first use.
  private readonly agents = new Map<string, http.Agent>();
  private credentials: Promise<RequestCredentials> | undefined;
  /** Deadlines of the requests in flight, so close() can fail them (a queued request has no socket to destroy). */
  private readonly inFlight = new Set<AbortController>();

  constructor(access: ApiAccess, options: ApiClientOptions = {}) {
    this.access = access;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.onRequest = options.onRequest;
    this.laneSockets = { ...LANE_SOCKETS, ...options.laneSockets };
    this.clock = options.clock ?? new SystemClock();
  }

  /** One request, bounded from this call to the end of the answer by spec.timeoutMs (K8S_TIMEOUT). */
  async request<T>(spec: RequestSpec): Promise<T> {
    const lane = spec.lane ?? 'default';
    const timeoutMs = spec.timeoutMs ?? this.timeoutMs;
    const what = `${METHODS[spec.verb]} ${spec.path}`;
    const started = this.clock.now();
    let connectedAt: number | undefined;
    const deadline = new AbortController();
    const timer = this.clock.setTimeout(() => {
      const waited =
        connectedAt === undefined
          ? `all of it waiting for a free connection on lane '${lane}'`
          : `${Math.round(connectedAt - started)} ms of it waiting for a connection on lane '${lane}'`;
      deadline.abort(new ApiError('K8S_TIMEOUT', 0, `${what}: no answer within ${timeoutMs} ms, ${waited}`));
    }, timeoutMs);
    this.inFlight.add(deadline);
    let status = 0;
    try {
      const res = await this.send(METHODS[spec.verb], spec, lane, deadline.signal, () => {
        connectedAt = this.clock.now();
      });
      status = res.statusCode ?? 0;
      const body = await readBody(res, deadline.signal, what);
      if (status < 200 || status >= 300) throw statusError(what, status, body);
      return parseJson<T>(body, what, status);
    } finally {
      this.clock.clearTimeout(timer);
      this.inFlight.delete(deadline);
      this.onRequest?.({ verb: spec.verb, resource: resourceOf(spec.path), lane, status, durationMs: this.clock.now() - started });
    }
  }

  /**
   * Opens a watch and resolves with the response stream once the server
   * answered 2xx; a refusal rejects with its ApiError (410: K8S_GONE). It
   * has no deadline of its own: the caller bounds it through spec.signal.
   */
  async watch(spec: WatchSpec): Promise<http.IncomingMessage> {
    const lane = spec.lane ?? 'watch';
    const what = `GET ${spec.path} (watch)`;
    const started = this.clock.now();
    let status = 0;
    try {
      const res = await this.send('GET', { ...spec, query: { ...spec.query, watch: 'true' } }, lane, spec.signal);
      status = res.statusCode ?? 0;
      if (status >= 200 && status < 300) return res;
      throw statusError(what, status, await readBody(res, spec.signal, what));
    } finally {
      this.onRequest?.({ verb: 'watch', resource: resourceOf(spec.path), lane, status, durationMs: this.clock.now() - started });
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

  /** Closes every pooled connection; requests still in flight (queued ones too) and open watches fail. */
  close(): void {
    for (const deadline of this.inFlight) deadline.abort(new ApiError('K8S_CONNECTION_FAILED', 0, 'the API client was closed'));
    this.inFlight.clear();
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }

  /** Sends one request on a lane; resolves with the response once its head arrived. Aborting signal destroys it. */
  private async send(
    method: string,
    spec: { path: string; query?: Record<string, string | undefined>; body?: unknown; contentType?: string },
    lane: ApiLane,
    signal: AbortSignal,
    onConnection?: () => void,
  ): Promise<http.IncomingMessage> {
    const what = `${method} ${spec.path}`;
    // Loading the client library for a kubeconfig only it reads, and exec plugins handing out a token, may take a
    // while: that time counts against the deadline too.
    const credentials = await untilAborted(this.requestCredentials(), signal);
    const url = new URL(spec.path, credentials.server);
    for (const [k, v] of Object.entries(spec.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    const headers: http.OutgoingHttpHeaders = { accept: 'application/json' };
    const opts: CredentialOptions = { headers };
    await untilAborted(credentials.apply(opts), signal);
    const payload = spec.body === undefined ? undefined : JSON.stringify(spec.body);
    if (payload !== undefined) {
      headers['content-type'] = spec.contentType ?? (method === 'PATCH' ? 'application/merge-patch+json' : 'application/json');
      headers['content-length'] = Buffer.byteLength(payload);
    }
    const transport = url.protocol === 'http:' ? http : https;
    return new Promise((resolve, reject) => {
      const req = transport.request(url, { ...opts, method, headers, agent: this.agent(url.protocol, lane) }, resolve);
      // Reject here, not from req's 'error': a request still queued for a socket emits nothing until it gets one.
      const onAbort = (): void => {
        const reason = reasonOf(signal, what);
        reject(reason);
        req.destroy(reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      req.on('close', () => signal.removeEventListener('abort', onAbort));
      if (onConnection !== undefined) req.once('socket', onConnection);
      req.on('error', (err) => reject(signal.aborted ? reasonOf(signal, what) : connectionFailed(what, err)));
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  private agent(protocol: string, lane: ApiLane): http.Agent {
    const key = `${protocol}${lane}`;
    let agent = this.agents.get(key);
    if (agent === undefined) {
      const options = { keepAlive: true, maxSockets: this.laneSockets[lane] };
      agent = protocol === 'http:' ? new http.Agent(options) : new https.Agent(options);
      this.agents.set(key, agent);
    }
    return agent;
  }

  /** The access's credentials, worked out once; a failed attempt (the library refused the kubeconfig) is retried by the next request. */
  private requestCredentials(): Promise<RequestCredentials> {
    if (this.credentials === undefined) {
      const pending = credentialsFor(this.access);
      this.credentials = pending;
      pending.catch(() => {
        if (this.credentials === pending) this.credentials = undefined;
      });
    }
    return this.credentials;
  }
}

/** Resolves with p, or rejects with signal's reason as soon as it is aborted. */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

/** The whole body as text; rejects with signal's reason if aborted meanwhile. */
function readBody(res: http.IncomingMessage, signal: AbortSignal, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', (err) => reject(signal.aborted ? reasonOf(signal, what) : connectionFailed(what, err)));
    res.on('close', () => {
      if (!res.complete)
        reject(signal.aborted ? reasonOf(signal, what) : connectionFailed(what, new Error('connection closed mid-answer')));
    });
  });
}

function reasonOf(signal: AbortSignal, what: string): Error {
  return signal.reason instanceof Error ? signal.reason : new ApiError('K8S_CONNECTION_FAILED', 0, `${what}: abandoned`);
}

function connectionFailed(what: string, err: Error): ApiError {
  return new ApiError('K8S_CONNECTION_FAILED', 0, `${what}: ${err.message}`, undefined, { cause: err });
}

function parseJson<T>(body: string, what: string, status: number): T {
  if (body === '') return undefined as T;
  try {
    return JSON.parse(body) as T;
  } catch (err) {
    // A 2xx that is not JSON comes from something between us and the API server (a proxy's page).
    throw new ApiError('K8S_SERVER_ERROR', status, `${what}: answered ${status} with a body that is not JSON`, undefined, { cause: err });
  }
}

function statusError(what: string, status: number, body: string): ApiError {
  let parsed: WireStatus = {};
  try {
    const value: unknown = JSON.parse(body);
    if (typeof value === 'object' && value !== null) parsed = value as WireStatus;
  } catch {
    // Not a Status object; the raw text is the message.
  }
  return errorFromStatus({ code: status, reason: parsed.reason, message: parsed.message ?? body.slice(0, MAX_RAW_BODY_IN_MESSAGE) }, what);
}
