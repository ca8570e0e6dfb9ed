// A Service as a holder of an address, read straight from its spec (also for
// Services whose request is refused now but that held an address before).
import { objectKey, type Service } from '../k8s/types.js';
import type { Holder } from './sharing.js';

export function holderFromService(svc: Service): Holder {
  return {
    key: objectKey(svc),
    createdAt: svc.metadata.creationTimestamp ?? '',
    ports: (svc.spec.ports ?? []).map((p) => ({ port: p.port, protocol: p.protocol ?? 'TCP' })),
    externalTrafficPolicyLocal: svc.spec.externalTrafficPolicy === 'Local',
    selector: svc.spec.selector,
  };
}

export function ingressIps(svc: Service): string[] {
  return (svc.status?.loadBalancer?.ingress ?? []).flatMap((i) => (i.ip !== undefined && i.ip !== '' ? [i.ip] : []));
}
