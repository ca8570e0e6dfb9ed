// The writes the controller makes, each one small and each guarded where it
// must be: finalizer lists and a Service's status carry the resourceVersion
// they were computed from (merge patch with metadata.resourceVersion is a
// precondition: 409 if the object moved on), so a decision made on a stale
// cached object is refused and made again on a fresh one.
import type { ApiClient } from './api-client.js';
import type { Eip, EipStatus, Service } from './types.js';

export const EIPS_PATH = '/apis/network.kubesphere.io/v1alpha2/eips';

export function servicePath(namespace: string, name: string): string {
  return `/api/v1/namespaces/${namespace}/services/${name}`;
}

export class ServiceWriter {
  constructor(private readonly client: ApiClient) {}

  /** Sets status.loadBalancer.ingress to exactly these addresses (none clears it). */
  setIngress(svc: Service, ips: readonly string[]): Promise<Service> {
    const ns = svc.metadata.namespace ?? 'default';
    return this.client.patch<Service>(`${servicePath(ns, svc.metadata.name)}/status`, {
      metadata: { resourceVersion: svc.metadata.resourceVersion },
      status: { loadBalancer: { ingress: ips.length === 0 ? null : ips.map((ip) => ({ ip, ipMode: 'VIP' })) } },
    });
  }

  setFinalizers(svc: Service, finalizers: readonly string[]): Promise<Service> {
    const ns = svc.metadata.namespace ?? 'default';
    return this.client.patch<Service>(servicePath(ns, svc.metadata.name), {
      metadata: { resourceVersion: svc.metadata.resourceVersion, finalizers: finalizers.length === 0 ? null : finalizers },
    });
  }
}

export class EipWriter {
  constructor(private readonly client: ApiClient) {}

  /** Replaces the whole status (a JSON patch "add" replaces it, so removed map entries go too). */
  setStatus(eip: Eip, status: EipStatus): Promise<Eip> {
    return this.client.patch<Eip>(
      `${EIPS_PATH}/${eip.metadata.name}/status`,
      [{ op: 'add', path: '/status', value: status }],
      'application/json-patch+json',
    );
  }

  setFinalizers(eip: Eip, finalizers: readonly string[]): Promise<Eip> {
    return this.client.patch<Eip>(`${EIPS_PATH}/${eip.metadata.name}`, {
      metadata: { resourceVersion: eip.metadata.resourceVersion, finalizers: finalizers.length === 0 ? null : finalizers },
    });
  }
}
