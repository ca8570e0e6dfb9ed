// Settings of the controller, with the defaults a Helm install uses: the one
// source of truth (flags derive theirs; a unit test holds values.yaml to it).

import type { LevelWithSilent } from 'pino';
import { DEFAULT_LOAD_BALANCER_CLASS } from '../pools/names.js';

export interface ControllerConfig {
  kubeconfig: string | undefined;
  /** Namespace of the leader-election Lease. */
  namespace: string;
  identity: string;
  loadBalancerClass: string;
  metricsAddress: string;
  logLevel: LevelWithSilent;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  /** Parallel Service reconciles; different Services only, never one twice. */
  workers: number;
}

export const CONTROLLER_DEFAULTS = {
  namespace: 'baton-system',
  loadBalancerClass: DEFAULT_LOAD_BALANCER_CLASS,
  // 7472: the port MetalLB's controller uses, so existing firewall and scrape rules for a bare-metal LB fit.
  metricsAddress: ':7472',
  logLevel: 'info' as LevelWithSilent,
  // client-go's defaults: a standby takes over 15 s after the leader stops renewing.
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
  workers: 4,
} as const;

/** Where each default sits in charts/baton/values.yaml. */
export const CONTROLLER_CHART_VALUES = {
  leaseDurationMs: 'controller.leaderElection.leaseDuration',
  renewDeadlineMs: 'controller.leaderElection.renewDeadline',
  retryPeriodMs: 'controller.leaderElection.retryPeriod',
  loadBalancerClass: 'loadBalancerClass',
  logLevel: 'logLevel',
} as const satisfies Partial<Record<keyof typeof CONTROLLER_DEFAULTS, string>>;
