// Which kind of object a request path is about, for counting requests by
// resource ("leases", "events", "services/status") without one label value
// per object: names and namespaces are dropped, a subresource is kept.
// Paths are the ones ApiClient sends: /api/v1/... (core) or
// /apis/<group>/<version>/..., optionally with namespaces/<ns>/ before the
// resource.

/** The resource a Kubernetes API path names, with its subresource: "leases", "services/status"; "other" for anything else. */
export function resourceOf(path: string): string {
  const parts =
    path
      .split('?')[0]
      ?.split('/')
      .filter((p) => p !== '') ?? [];
  // Core group: api/<version>/...; named groups: apis/<group>/<version>/...
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 3) rest = parts.slice(2);
  else if (parts[0] === 'apis' && parts.length >= 4) rest = parts.slice(3);
  else return 'other';
  if (rest[0] === 'namespaces' && rest.length >= 3) rest = rest.slice(2);
  const [resource, , subresource] = rest;
  if (resource === undefined) return 'other';
  return subresource === undefined ? resource : `${resource}/${subresource}`;
}
