// Which Services are Baton's: the one rule the controller (which gives them
// addresses) and the speakers (which announce them) must agree on.
import type { Service } from '../k8s/types.js';
import { LB_ANNOTATION, LB_ANNOTATION_VALUE } from './names.js';

/**
 * Baton manages a Service of type LoadBalancer that names Baton's class, or
 * that names no class and carries OpenELB's annotation. A Service naming
 * another class is never touched, annotation or not.
 */
export function isManaged(svc: Service, loadBalancerClass: string): boolean {
  if (svc.spec.type !== 'LoadBalancer') return false;
  const cls = svc.spec.loadBalancerClass;
  if (cls !== undefined && cls !== '') return cls === loadBalancerClass;
  return svc.metadata.annotations?.[LB_ANNOTATION] === LB_ANNOTATION_VALUE;
}
