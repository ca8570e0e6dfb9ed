// A FrameLink in memory, for unit tests: records what is sent, delivers
// what a test injects, and can be made to fail sends like a downed link.

import type { FrameLink } from '../layer2/link.js';
import type { MacString } from '../net/mac.js';

export class FakeLink implements FrameLink {
  readonly sent: Buffer[] = [];
  private readonly handlers: Array<(frame: Buffer, answered: boolean) => void> = [];
  down = false;
  closed = false;
  /** What answerFor() was last told, when the fake has a fast path. */
  fastPathIps: readonly string[] | undefined;
  /** Set only on a fake built with a fast path, as the AF_PACKET link has one. */
  readonly answerFor?: (ips: readonly string[]) => void;

  /** Every send and answerFor() call, in order, for tests of what goes out first. */
  readonly calls: Array<'send' | 'answerFor'> = [];

  constructor(
    readonly name: string,
    readonly mac: MacString,
    options: { fastPath?: boolean } = {},
  ) {
    if (options.fastPath === true) {
      this.answerFor = (ips) => {
        this.calls.push('answerFor');
        this.fastPathIps = [...ips];
      };
    }
  }

  send(frame: Buffer): void {
    if (this.down) throw Object.assign(new Error('sendto(AF_PACKET): Network is down'), { code: 'ENETDOWN' });
    this.sent.push(Buffer.from(frame));
    this.calls.push('send');
  }

  onFrame(handler: (frame: Buffer, answered: boolean) => void): void {
    this.handlers.push(handler);
  }

  offFrame(handler: (frame: Buffer, answered: boolean) => void): void {
    const i = this.handlers.indexOf(handler);
    if (i !== -1) this.handlers.splice(i, 1);
  }

  inject(frame: Buffer, answered = false): void {
    for (const h of this.handlers) h(frame, answered);
  }

  close(): void {
    this.closed = true;
  }
}
