// Builders for unit tests: Eips and Services as the API server would return them.
import type { Eip, Service } from '../k8s/types.js';

let clock = 0;
/** Creation timestamps that increase with each call, so "older" is the order of creation in a test. */
export function nextTimestamp(): string {
  clock++;
  return new Date(Date.UTC(2026, 0, 1, 0, 0, clock)).toISOString();
}

export function eip(
  name: string,
  spec: Partial<Eip['spec']> & { address: string },
  extra: { default?: boolean; annotations?: Record<string, string>; status?: Eip['status']; deleting?: boolean } = {},
): Eip {
  return {
    apiVersion: 'network.kubesphere.io/v1alpha2',
    kind: 'Eip',
    metadata: {
      name,
      uid: `uid-${name}`,
      creationTimestamp: nextTimestamp(),
      annotations: { ...(extra.default === true ? { 'eip.openelb.kubesphere.io/is-default-eip': 'true' } : {}), ...extra.annotations },
      ...(extra.deleting === true ? { deletionTimestamp: nextTimestamp() } : {}),
    },
    spec: { protocol: 'layer2', interface: 'eth0', ...spec },
    ...(extra.status !== undefined ? { status: extra.status } : {}),
  };
}

export function service(
  name: string,
  options: {
    namespace?: string;
    annotations?: Record<string, string>;
    loadBalancerClass?: string;
    loadBalancerIP?: string;
    type?: string;
    ports?: Array<{ port: number; protocol?: 'TCP' | 'UDP' }>;
    etp?: 'Cluster' | 'Local';
    selector?: Record<string, string>;
    families?: Array<'IPv4' | 'IPv6'>;
    policy?: 'SingleStack' | 'PreferDualStack' | 'RequireDualStack';
    ingress?: string[];
    openelb?: boolean;
  } = {},
): Service {
  return {
    metadata: {
      name,
      namespace: options.namespace ?? 'default',
      uid: `uid-${name}`,
      creationTimestamp: nextTimestamp(),
      annotations: { ...(options.openelb !== false ? { 'lb.kubesphere.io/v1alpha1': 'openelb' } : {}), ...options.annotations },
    },
    spec: {
      type: options.type ?? 'LoadBalancer',
      ports: (options.ports ?? [{ port: 80 }]).map((p) => ({ port: p.port, protocol: p.protocol ?? 'TCP' })),
      externalTrafficPolicy: options.etp ?? 'Cluster',
      selector: options.selector ?? { app: name },
      ipFamilies: options.families ?? ['IPv4'],
      ipFamilyPolicy: options.policy ?? 'SingleStack',
      ...(options.loadBalancerClass !== undefined ? { loadBalancerClass: options.loadBalancerClass } : {}),
      ...(options.loadBalancerIP !== undefined ? { loadBalancerIP: options.loadBalancerIP } : {}),
    },
    ...(options.ingress !== undefined ? { status: { loadBalancer: { ingress: options.ingress.map((ip) => ({ ip })) } } } : {}),
  };
}
