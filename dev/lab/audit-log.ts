// The API server's audit log read from a mark on: what was written (and
// refused) between two moments of a test, counted by the server itself,
// whatever the clients say about their own requests.
import { open, stat } from 'node:fs/promises';

export interface AuditedRequest {
  verb: string;
  user: string;
  resource: string;
  namespace: string | undefined;
  name: string | undefined;
  code: number;
  /** Epoch ms the server finished the request. */
  at: number;
}

const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete']);

export class AuditLog {
  constructor(readonly path: string) {}

  /** Where the log ends now; requests() from here on are those completed after this call. */
  async mark(): Promise<number> {
    return (await stat(this.path)).size;
  }

  /** Every request completed since mark. */
  async requests(mark: number): Promise<AuditedRequest[]> {
    const handle = await open(this.path, 'r');
    let text: string;
    try {
      const { size } = await handle.stat();
      const buffer = Buffer.alloc(Math.max(0, size - mark));
      await handle.read(buffer, 0, buffer.length, mark);
      text = buffer.toString('utf8');
    } finally {
      await handle.close();
    }
    const out: AuditedRequest[] = [];
    for (const line of text.split('\n')) {
      if (!line.startsWith('{')) continue;
      let e: {
        stage?: string;
        verb: string;
        user?: { username?: string };
        objectRef?: { resource?: string; namespace?: string; name?: string };
        responseStatus?: { code?: number };
        stageTimestamp?: string;
      };
      try {
        e = JSON.parse(line) as typeof e;
      } catch {
        continue; // a line still being written
      }
      if (e.stage !== undefined && e.stage !== 'ResponseComplete') continue;
      out.push({
        verb: e.verb,
        user: e.user?.username ?? '',
        resource: e.objectRef?.resource ?? '',
        namespace: e.objectRef?.namespace,
        name: e.objectRef?.name,
        code: e.responseStatus?.code ?? 0,
        at: e.stageTimestamp === undefined ? 0 : Date.parse(e.stageTimestamp),
      });
    }
    return out;
  }

  /** Writes (create, update, patch, delete) of one object since mark, refused ones included (see code). */
  async writesTo(mark: number, resource: string, namespace: string, name: string): Promise<AuditedRequest[]> {
    return (await this.requests(mark)).filter(
      (r) => WRITE_VERBS.has(r.verb) && r.resource === resource && r.namespace === namespace && r.name === name,
    );
  }
}
