// The names users write on their objects. The OpenELB ones are spelled
// exactly as OpenELB spells them, so existing manifests work unchanged.

/** On a Service: value "openelb" makes it Baton's (when it sets no other loadBalancerClass). */
export const LB_ANNOTATION = 'lb.kubesphere.io/v1alpha1';
export const LB_ANNOTATION_VALUE = 'openelb';
/** On a Service: the Eip (pool) to allocate from; several, comma-separated, for dual stack. */
export const POOL_ANNOTATION = 'eip.openelb.kubesphere.io/v1alpha2';
/** On a Service: the specific address(es) wanted; comma-separated for dual stack. */
export const REQUESTED_IP_ANNOTATION = 'eip.openelb.kubesphere.io/v1alpha1';
/** On a Service: layer2 or vip (both mean ARP from one node); bgp is refused. */
export const PROTOCOL_ANNOTATION = 'protocol.openelb.kubesphere.io/v1alpha1';
/** On an Eip: "true" makes it the default pool. */
export const DEFAULT_POOL_ANNOTATION = 'eip.openelb.kubesphere.io/is-default-eip';

/** Baton's loadBalancerClass; Services naming it need no annotation. */
export const DEFAULT_LOAD_BALANCER_CLASS = 'baton.dev/layer2';

/** OpenELB's finalizers, reused so objects OpenELB managed are adopted as they are. */
export const SERVICE_FINALIZER = 'finalizer.lb.kubesphere.io/v1alpha1';
export const EIP_FINALIZER = 'finalizer.ipam.kubesphere.io/v1alpha1';
