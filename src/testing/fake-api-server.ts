// A local node:http server playing the Kubernetes API server, for unit tests
// of src/k8s without root or a control plane. It keeps what the tests need
// of the real one's contract, and no more:
//   - one resourceVersion counter for every object (etcd's revision);
//   - create answers 409 AlreadyExists for a taken name; update, merge patch
//     and delete honour a resourceVersion precondition with 409 Conflict;
//     a PUT to a missing Lease creates it (Leases allow create-on-update),
//     any other missing object is 404;
//   - list answers with the collection's resourceVersion; watch replays the
//     events after the resourceVersion asked for, then streams new ones, and
//     ends after timeoutSeconds; a resourceVersion older than the last
//     compact() is refused with 410, as HTTP status or as an ERROR event
//     (what kube-apiserver really sends once a watch is open);
//   - equality label selectors (a=b, a!=b, a), on lists and watches.
// Tests script faults through `intercept`, which sees every request first
// (answer it, or return true and never answer), and watch the traffic
// through `requests`. Never shipped (src/testing/ is not built into the image).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  /** performance.now() when the request arrived. */
  at: number;
}

/** Sees each request first; returns true when it answered it (or means never to). */
export type Intercept = (req: IncomingMessage, res: ServerResponse, url: URL) => boolean;

/** A stored object: wire JSON with metadata. */
export interface StoredObject {
  metadata: {
    name: string;
    namespace?: string;
    resourceVersion?: string;
    uid?: string;
    creationTimestamp?: string;
    labels?: Record<string, string>;
    [field: string]: unknown;
  };
  [field: string]: unknown;
}

interface Target {
  /** API prefix and resource: "/apis/coordination.k8s.io/v1/leases". */
  resource: string;
  namespace: string | undefined;
  name: string | undefined;
  subresource: string | undefined;
}

interface WatchEventRecord {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  resource: string;
  object: StoredObject;
}

interface Watcher {
  res: ServerResponse;
  resource: string;
  namespace: string | undefined;
  selector: string | null;
  timer: NodeJS.Timeout;
}

// Resources whose strategy allows create-on-update (upstream lease/strategy.go AllowCreateOnUpdate() = true).
const CREATE_ON_UPDATE = new Set(['leases']);

export class FakeApiServer {
  readonly requests: RecordedRequest[] = [];
  /** Scripted faults: sees each request before the fake API does. */
  intercept: Intercept | undefined;
  /** How a watch from a compacted resourceVersion is refused: HTTP 410, or 200 and an ERROR event with code 410. */
  goneAs: 'status' | 'event' = 'status';
  private readonly objects = new Map<string, Map<string, StoredObject>>();
  private readonly events: WatchEventRecord[] = [];
  private readonly watchers = new Set<Watcher>();
  private revision = 0;
  private compactedAt = 0;
  private nextUid = 1;

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<FakeApiServer> {
    let self: FakeApiServer | undefined;
    const server = createServer((req, res) => self?.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    self = new FakeApiServer(server, `http://127.0.0.1:${port}`);
    return self;
  }

  /** Requests seen for a path (any query), in order. */
  requestsTo(path: string, method = 'GET'): RecordedRequest[] {
    return this.requests.filter((r) => r.path === path && r.method === method);
  }

  /** Watches open now. */
  get openWatches(): number {
    return this.watchers.size;
  }

  /** Creates or replaces an object as another client would; watchers see it. Returns what is stored. */
  put(collectionPath: string, obj: StoredObject): StoredObject {
    const t = this.target(`${collectionPath}/${obj.metadata.name}`);
    const existing = this.find(t);
    return this.save(t, obj, existing === undefined ? 'ADDED' : 'MODIFIED', existing);
  }

  /** Deletes an object as another client would; watchers see it. */
  remove(collectionPath: string, name: string): void {
    const t = this.target(`${collectionPath}/${name}`);
    const existing = this.find(t);
    if (existing !== undefined) this.drop(t, existing);
  }

  /** The stored object, or undefined. */
  object(collectionPath: string, name: string): StoredObject | undefined {
    return this.find(this.target(`${collectionPath}/${name}`));
  }

  /** Forgets every event so far: a watch from any version up to now is answered 410 Gone. */
  compact(): void {
    this.compactedAt = this.revision;
    this.events.length = 0;
  }

  /** Writes one raw watch event line to every open watch (an ERROR event, a malformed line). */
  sendToWatches(event: unknown): void {
    const line = typeof event === 'string' ? event : JSON.stringify(event);
    for (const w of this.watchers) w.res.write(`${line}\n`);
  }

  /** Ends every open watch normally, as the server does at timeoutSeconds. */
  endWatches(): void {
    for (const w of [...this.watchers]) this.endWatch(w);
  }

  async close(): Promise<void> {
    this.endWatches();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', this.url);
    this.requests.push({ method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, at: performance.now() });
    if (this.intercept?.(req, res, url) === true) return;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = text === '' ? undefined : JSON.parse(text);
      } catch {
        send(res, failure(400, 'BadRequest', 'body is not JSON'));
        return;
      }
      const t = this.target(url.pathname);
      if (t.name === undefined && req.method === 'GET' && url.searchParams.get('watch') === 'true') this.watch(res, t, url.searchParams);
      else send(res, this.answer(req, url, t, body));
    });
  }

  private answer(req: IncomingMessage, url: URL, t: Target, body: unknown): Reply {
    const method = req.method ?? 'GET';
    if (t.name === undefined) {
      if (method === 'GET') return { status: 200, body: this.list(t, url.searchParams.get('labelSelector')) };
      if (method === 'POST') return this.create(t, body);
    } else {
      if (method === 'GET') {
        const obj = this.find(t);
        return obj === undefined ? notFound(t) : { status: 200, body: obj };
      }
      if (method === 'PUT') return this.update(t, body);
      if (method === 'PATCH') return this.patch(t, body, req.headers['content-type']);
      if (method === 'DELETE') return this.delete(t, body);
    }
    return failure(405, 'MethodNotAllowed', `${method} ${url.pathname}`);
  }

  private list(t: Target, selector: string | null): unknown {
    const items = [...(this.objects.get(t.resource)?.values() ?? [])].filter(
      (o) => (t.namespace === undefined || o.metadata.namespace === t.namespace) && matches(o, selector),
    );
    return { kind: 'List', apiVersion: 'v1', metadata: { resourceVersion: String(this.revision) }, items };
  }

  private create(t: Target, body: unknown): Reply {
    const obj = asObject(body);
    if (obj === undefined) return failure(422, 'Invalid', 'metadata.name: Required value');
    const at: Target = { ...t, name: obj.metadata.name };
    if (this.find(at) !== undefined)
      return failure(409, 'AlreadyExists', `${lastSegment(t.resource)} "${obj.metadata.name}" already exists`);
    const { resourceVersion: _ignored, ...metadata } = obj.metadata;
    return { status: 201, body: this.save(at, { ...obj, metadata }, 'ADDED', undefined) };
  }

  private update(t: Target, body: unknown): Reply {
    const obj = asObject(body);
    if (obj === undefined || obj.metadata.name !== t.name) return failure(400, 'BadRequest', 'the name in the body does not match the URL');
    const existing = this.find(t);
    if (existing === undefined) {
      if (!CREATE_ON_UPDATE.has(lastSegment(t.resource))) return notFound(t);
      return { status: 201, body: this.save(t, obj, 'ADDED', undefined) };
    }
    const wanted = obj.metadata.resourceVersion;
    if (wanted !== undefined && wanted !== existing.metadata.resourceVersion) return conflict(t);
    return { status: 200, body: this.save(t, obj, 'MODIFIED', existing) };
  }

  private patch(t: Target, body: unknown, contentType: string | undefined): Reply {
    if (contentType !== 'application/merge-patch+json') return failure(415, 'UnsupportedMediaType', contentType ?? 'no content-type');
    const existing = this.find(t);
    if (existing === undefined) return notFound(t);
    const wanted = asRecord(asRecord(body)?.['metadata'])?.['resourceVersion'];
    if (typeof wanted === 'string' && wanted !== existing.metadata.resourceVersion) return conflict(t);
    const obj = asObject(mergePatch(existing, body));
    if (obj === undefined) return failure(422, 'Invalid', 'the patch removed metadata');
    return { status: 200, body: this.save(t, obj, 'MODIFIED', existing) };
  }

  private delete(t: Target, body: unknown): Reply {
    const existing = this.find(t);
    if (existing === undefined) return notFound(t);
    const wanted = asRecord(asRecord(body)?.['preconditions'])?.['resourceVersion'];
    if (typeof wanted === 'string' && wanted !== existing.metadata.resourceVersion) return conflict(t);
    this.drop(t, existing);
    return { status: 200, body: { kind: 'Status', apiVersion: 'v1', status: 'Success', details: { name: t.name } } };
  }

  private watch(res: ServerResponse, t: Target, query: URLSearchParams): void {
    const asked = query.get('resourceVersion') ?? '';
    const from = asked === '' || asked === '0' ? this.revision : Number(asked);
    if (from < this.compactedAt) {
      const gone = failure(410, 'Expired', `too old resource version: ${asked} (${this.compactedAt})`);
      if (this.goneAs === 'status') {
        send(res, gone);
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(`${JSON.stringify({ type: 'ERROR', object: gone.body })}\n`);
      }
      return;
    }
    const selector = query.get('labelSelector');
    res.writeHead(200, { 'content-type': 'application/json' });
    res.flushHeaders();
    const timeoutSeconds = Number(query.get('timeoutSeconds') ?? '1800');
    const watcher: Watcher = {
      res,
      resource: t.resource,
      namespace: t.namespace,
      selector,
      timer: setTimeout(() => this.endWatch(watcher), timeoutSeconds * 1000),
    };
    this.watchers.add(watcher);
    res.on('close', () => {
      clearTimeout(watcher.timer);
      this.watchers.delete(watcher);
    });
    for (const ev of this.events) if (ev.rv > from) this.deliver(watcher, ev);
  }

  private endWatch(w: Watcher): void {
    clearTimeout(w.timer);
    this.watchers.delete(w);
    w.res.end();
  }

  private deliver(w: Watcher, ev: WatchEventRecord): void {
    if (ev.resource !== w.resource) return;
    if (w.namespace !== undefined && ev.object.metadata.namespace !== w.namespace) return;
    if (!matches(ev.object, w.selector)) return;
    w.res.write(`${JSON.stringify({ type: ev.type, object: ev.object })}\n`);
  }

  private save(t: Target, obj: StoredObject, type: 'ADDED' | 'MODIFIED', existing: StoredObject | undefined): StoredObject {
    this.revision++;
    const stored: StoredObject = structuredClone({
      ...obj,
      metadata: {
        ...obj.metadata,
        ...(t.namespace !== undefined ? { namespace: t.namespace } : {}),
        resourceVersion: String(this.revision),
        uid: existing?.metadata.uid ?? `uid-${this.nextUid++}`,
        creationTimestamp: existing?.metadata.creationTimestamp ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      },
    });
    let collection = this.objects.get(t.resource);
    if (collection === undefined) {
      collection = new Map();
      this.objects.set(t.resource, collection);
    }
    collection.set(objectKey(t.namespace, obj.metadata.name), stored);
    this.publish({ rv: this.revision, type, resource: t.resource, object: stored });
    return stored;
  }

  private drop(t: Target, existing: StoredObject): void {
    this.revision++;
    this.objects.get(t.resource)?.delete(objectKey(t.namespace, existing.metadata.name));
    this.publish({
      rv: this.revision,
      type: 'DELETED',
      resource: t.resource,
      object: { ...existing, metadata: { ...existing.metadata, resourceVersion: String(this.revision) } },
    });
  }

  private publish(ev: WatchEventRecord): void {
    this.events.push(ev);
    for (const w of this.watchers) this.deliver(w, ev);
  }

  private find(t: Target): StoredObject | undefined {
    if (t.name === undefined) return undefined;
    return this.objects.get(t.resource)?.get(objectKey(t.namespace, t.name));
  }

  /** /api/v1/[namespaces/NS/]RESOURCE[/NAME[/SUB]] and /apis/GROUP/VERSION/[namespaces/NS/]RESOURCE[/NAME[/SUB]]. */
  private target(pathname: string): Target {
    const segs = pathname.split('/').filter((s) => s !== '');
    const prefixLength = segs[0] === 'apis' ? 3 : 2;
    let rest = segs.slice(prefixLength);
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    return { resource: `/${[...segs.slice(0, prefixLength), rest[0] ?? ''].join('/')}`, namespace, name: rest[1], subresource: rest[2] };
  }
}

function objectKey(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

function lastSegment(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function matches(obj: StoredObject, selector: string | null): boolean {
  if (selector === null || selector === '') return true;
  const labels = obj.metadata.labels ?? {};
  return selector.split(',').every((term) => {
    const ne = term.split('!=');
    if (ne.length === 2) return labels[ne[0] ?? ''] !== ne[1];
    const eq = term.split(/==?/);
    if (eq.length === 2) return labels[eq[0] ?? ''] === eq[1];
    return term in labels;
  });
}

/** RFC 7386 JSON merge patch. */
function mergePatch(target: unknown, patch: unknown): unknown {
  const p = asRecord(patch);
  if (p === undefined) return patch;
  const out: Record<string, unknown> = { ...(asRecord(target) ?? {}) };
  for (const [k, v] of Object.entries(p)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function asObject(value: unknown): StoredObject | undefined {
  const meta = asRecord(asRecord(value)?.['metadata']);
  return meta !== undefined && typeof meta['name'] === 'string' ? (value as StoredObject) : undefined;
}

interface Reply {
  status: number;
  body: unknown;
}

function send(res: ServerResponse, reply: Reply): void {
  const text = JSON.stringify(reply.body);
  res.writeHead(reply.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** A metav1.Status refusal, as the API server sends it. */
function failure(code: number, reason: string, message: string): Reply {
  return { status: code, body: { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message } };
}

function notFound(t: Target): Reply {
  return failure(404, 'NotFound', `${lastSegment(t.resource)} "${t.name ?? ''}" not found`);
}

function conflict(t: Target): Reply {
  return failure(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${lastSegment(t.resource)} "${t.name ?? ''}": the object has been modified; please apply your changes to the latest version and try again`,
  );
}
