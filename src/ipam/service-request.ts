// What a Service asks of Baton, read from its spec and OpenELB annotations:
// whether it is Baton's at all, which pools, which specific addresses, which
// families, and what matters for sharing an address (ports, traffic policy,
// selector). Pure: a Service in, a request or a named refusal out.

import { objectKey, type Service } from '../k8s/types.js';
import { formatIp, type IpAddress, type IpFamily, parseIp } from '../net/ip.js';
import { POOL_ANNOTATION, PROTOCOL_ANNOTATION, REQUESTED_IP_ANNOTATION } from '../pools/names.js';

export interface PortKey {
  port: number;
  protocol: 'TCP' | 'UDP' | 'SCTP';
}

export interface LoadBalancerRequest {
  key: string;
  namespace: string;
  createdAt: string;
  /** Pools named by the Service (annotation), in the order written. Empty: choose automatically. */
  pools: string[];
  /** Specific addresses asked for (annotation or spec.loadBalancerIP), canonical. */
  ips: IpAddress[];
  /** Families wanted, in the Service's order; one address each. */
  families: IpFamily[];
  /** RequireDualStack: all families or none. */
  requireAllFamilies: boolean;
  ports: PortKey[];
  externalTrafficPolicyLocal: boolean;
  selector: Readonly<Record<string, string>> | undefined;
}

export type RequestRefusalReason = 'UnsupportedProtocol' | 'InvalidRequestedIP' | 'ConflictingRequestedIPs';

export type RequestResult = { ok: true; request: LoadBalancerRequest } | { ok: false; reason: RequestRefusalReason; message: string };

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

export function loadBalancerRequest(svc: Service): RequestResult {
  const annotations = svc.metadata.annotations ?? {};
  const protocol = annotations[PROTOCOL_ANNOTATION];
  if (protocol !== undefined && protocol !== '' && protocol !== 'layer2' && protocol !== 'vip') {
    return {
      ok: false,
      reason: 'UnsupportedProtocol',
      message:
        protocol === 'bgp'
          ? `${PROTOCOL_ANNOTATION}: bgp: Baton does not do BGP; it announces with ARP (layer2 or vip)`
          : `${PROTOCOL_ANNOTATION}: "${protocol}" is not one of layer2, vip`,
    };
  }

  const fromAnnotation = list(annotations[REQUESTED_IP_ANNOTATION]);
  const fromSpec = list(svc.spec.loadBalancerIP);
  const ips: IpAddress[] = [];
  for (const text of fromAnnotation.length > 0 ? fromAnnotation : fromSpec) {
    const ip = parseIp(text);
    if (ip === undefined) {
      return { ok: false, reason: 'InvalidRequestedIP', message: `requested address "${text}" is not an IP address` };
    }
    if (ips.some((other) => other.family === ip.family)) {
      return {
        ok: false,
        reason: 'InvalidRequestedIP',
        message: `requested addresses name two ${familyName(ip.family)} addresses; a Service gets one per family`,
      };
    }
    ips.push(ip);
  }
  if (fromAnnotation.length > 0 && fromSpec.length > 0) {
    const spec = fromSpec
      .map((t) => {
        const parsed = parseIp(t);
        return parsed === undefined ? t : formatIp(parsed);
      })
      .sort()
      .join(',');
    const annotated = ips.map(formatIp).sort().join(',');
    if (spec !== annotated) {
      return {
        ok: false,
        reason: 'ConflictingRequestedIPs',
        message: `${REQUESTED_IP_ANNOTATION} asks for ${annotated} but spec.loadBalancerIP asks for ${spec}; remove one`,
      };
    }
  }

  const declaredFamilies = (svc.spec.ipFamilies ?? []).map((f) => (f === 'IPv6' ? 6 : 4) as IpFamily);
  const policy = svc.spec.ipFamilyPolicy ?? 'SingleStack';
  let families: IpFamily[];
  if (declaredFamilies.length === 0) {
    // No families recorded (an API server always fills them; only hand-built objects lack them): follow the requested IPs, else IPv4.
    families = ips.length > 0 ? ips.map((ip) => ip.family) : [4];
  } else {
    families = policy === 'SingleStack' ? declaredFamilies.slice(0, 1) : declaredFamilies;
  }

  return {
    ok: true,
    request: {
      key: objectKey(svc),
      namespace: svc.metadata.namespace ?? 'default',
      createdAt: svc.metadata.creationTimestamp ?? '',
      pools: list(annotations[POOL_ANNOTATION]),
      ips,
      families,
      requireAllFamilies: policy === 'RequireDualStack',
      ports: (svc.spec.ports ?? []).map((p) => ({ port: p.port, protocol: p.protocol ?? 'TCP' })),
      externalTrafficPolicyLocal: svc.spec.externalTrafficPolicy === 'Local',
      selector: svc.spec.selector,
    },
  };
}

export function familyName(family: IpFamily): string {
  return family === 4 ? 'IPv4' : 'IPv6';
}
