// Watches the interfaces the speaker answers on: carrier (a pulled cable),
// and identity (a re-created interface has a new index and the old socket
// is dead; a new MAC makes every reply and announcement advertise an
// address the NIC no longer accepts). Polling sysfs is cheap and needs no
// netlink socket or capability beyond what the speaker has.
import type { Clock, TimerHandle } from '../clock.js';
import type { InterfaceProbe } from '../layer2/interface-resolver.js';
import type { ArpResponder } from '../layer2/responder.js';

export interface InterfaceMonitorOptions {
  clock: Clock;
  interfaces: InterfaceProbe;
  responders: () => readonly ArpResponder[];
  /** How often to look: a pulled cable is noticed within this. */
  pollMs: number;
  /** Carrier went away (true) or came back (false). */
  carrierChanged: (ifname: string, up: boolean) => void;
  /** The interface is not the one the socket was opened on any more (gone, re-created, new MAC). */
  identityChanged: (ifname: string, why: string) => void;
}

export class InterfaceMonitor {
  private readonly carrier = new Map<string, boolean>();
  private timer: TimerHandle | undefined;

  constructor(private readonly options: InterfaceMonitorOptions) {}

  start(): void {
    const tick = (): void => {
      this.check();
      this.timer = this.options.clock.setTimeout(tick, this.options.pollMs);
    };
    this.timer = this.options.clock.setTimeout(tick, this.options.pollMs);
  }

  stop(): void {
    if (this.timer !== undefined) this.options.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** One look at every open interface. */
  check(): void {
    for (const r of this.options.responders()) {
      const name = r.link.name;
      const id = this.options.interfaces.identity(name);
      if (id === undefined || id.ifindex !== r.link.ifindex || id.mac !== r.link.mac) {
        const why =
          id === undefined
            ? 'gone'
            : id.ifindex !== r.link.ifindex
              ? `re-created (index ${r.link.ifindex} -> ${id.ifindex})`
              : `new MAC ${id.mac}`;
        this.carrier.delete(name);
        this.options.identityChanged(name, why);
        continue;
      }
      const up = this.options.interfaces.hasCarrier(name);
      const before = this.carrier.get(name);
      this.carrier.set(name, up);
      if (before !== undefined && before !== up) this.options.carrierChanged(name, up);
      else if (before === undefined && !up) this.options.carrierChanged(name, false);
    }
  }
}
