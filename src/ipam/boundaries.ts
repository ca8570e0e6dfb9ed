// What the IPAM reconcilers need from the outside world, as small
// interfaces: a read-only cache, a few writes, an event sink, a fence. The
// controller wires Kubernetes-backed implementations; unit tests wire fakes.
import type { EventSink } from '../k8s/event-recorder.js';
import type { Eip, EipStatus, Service } from '../k8s/types.js';

export interface ReadCache<T> {
  get(name: string, namespace?: string): T | undefined;
  list(): readonly T[];
}

export interface ServiceWrites {
  setIngress(svc: Service, ips: readonly string[]): Promise<Service>;
  setFinalizers(svc: Service, finalizers: readonly string[]): Promise<Service>;
}

export interface EipWrites {
  setStatus(eip: Eip, status: EipStatus): Promise<Eip>;
  setFinalizers(eip: Eip, finalizers: readonly string[]): Promise<Eip>;
}

export type { EventSink };

/** Throws (code NOT_LEADER) when this replica may not write: checked before every write. */
export type Fence = () => void;
