// The shapes of the API objects Baton reads and writes, as they are on the
// wire (JSON; timestamps are strings). Only the fields Baton uses are named.
// Everything is readonly: objects come from the informer cache, which is
// shared and frozen; writers build new objects instead of editing these.

export interface ObjectMeta {
  readonly name: string;
  readonly namespace?: string;
  readonly uid?: string;
  readonly resourceVersion?: string;
  readonly generation?: number;
  readonly creationTimestamp?: string;
  readonly deletionTimestamp?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly finalizers?: readonly string[];
}

export interface Condition {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
  readonly lastTransitionTime: string;
  readonly observedGeneration?: number;
}

export interface ServicePort {
  readonly name?: string;
  readonly protocol?: 'TCP' | 'UDP' | 'SCTP';
  readonly port: number;
  readonly targetPort?: number | string;
  readonly nodePort?: number;
}

export interface LoadBalancerIngress {
  readonly ip?: string;
  readonly hostname?: string;
  readonly ipMode?: 'VIP' | 'Proxy';
}

export interface Service {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata: ObjectMeta;
  readonly spec: {
    readonly type?: string;
    readonly selector?: Readonly<Record<string, string>>;
    readonly ports?: readonly ServicePort[];
    readonly loadBalancerClass?: string;
    readonly loadBalancerIP?: string;
    readonly externalTrafficPolicy?: 'Cluster' | 'Local';
    readonly ipFamilies?: ReadonlyArray<'IPv4' | 'IPv6'>;
    readonly ipFamilyPolicy?: 'SingleStack' | 'PreferDualStack' | 'RequireDualStack';
    readonly clusterIP?: string;
  };
  readonly status?: {
    readonly loadBalancer?: { readonly ingress?: readonly LoadBalancerIngress[] };
    readonly conditions?: readonly Condition[];
  };
}

export interface EipSpec {
  readonly address: string;
  readonly protocol?: string;
  readonly interface?: string;
  readonly disable?: boolean;
  readonly usingKnownIPs?: boolean;
  readonly priority?: number;
  readonly namespaces?: readonly string[];
  readonly namespaceSelector?: Readonly<Record<string, string>>;
}

export interface EipStatus {
  readonly occupied?: boolean;
  readonly usage?: number;
  readonly poolSize?: number;
  readonly used?: Readonly<Record<string, string>>;
  readonly firstIP?: string;
  readonly lastIP?: string;
  readonly ready?: boolean;
  readonly v4?: boolean;
  readonly conditions?: readonly Condition[];
  readonly observedGeneration?: number;
}

export interface Eip {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata: ObjectMeta;
  readonly spec: EipSpec;
  readonly status?: EipStatus;
}

export interface Namespace {
  readonly metadata: ObjectMeta;
}

export interface Lease {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata: ObjectMeta;
  readonly spec?: {
    readonly holderIdentity?: string;
    readonly leaseDurationSeconds?: number;
    readonly acquireTime?: string;
    readonly renewTime?: string;
    readonly leaseTransitions?: number;
  };
}

export interface ListMeta {
  readonly resourceVersion?: string;
  readonly continue?: string;
}

export interface List<T> {
  readonly metadata?: ListMeta;
  readonly items: readonly T[];
}

/** "namespace/name" for namespaced objects, "name" for cluster-scoped ones: the work-queue key. */
export function objectKey(obj: { metadata: { name: string; namespace?: string } }): string {
  return obj.metadata.namespace !== undefined && obj.metadata.namespace !== ''
    ? `${obj.metadata.namespace}/${obj.metadata.name}`
    : obj.metadata.name;
}

export function splitKey(key: string): { namespace: string | undefined; name: string } {
  const slash = key.indexOf('/');
  return slash === -1 ? { namespace: undefined, name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

export interface Node {
  readonly metadata: ObjectMeta;
  readonly status?: {
    readonly conditions?: ReadonlyArray<{ readonly type: string; readonly status: string }>;
  };
}

export interface EndpointSlice {
  readonly metadata: ObjectMeta;
  readonly addressType?: string;
  readonly endpoints?: ReadonlyArray<{
    readonly addresses?: readonly string[];
    readonly conditions?: { readonly ready?: boolean; readonly serving?: boolean; readonly terminating?: boolean };
    readonly nodeName?: string;
  }>;
}

/** The label that ties an EndpointSlice to its Service. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
