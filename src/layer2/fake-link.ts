// A FrameLink in memory, for unit tests: records what is sent, delivers
// what a test injects, and can be made to fail sends like a downed link.
import type { MacString } from '../net/mac.js';
import type { FrameLink } from './link.js';

export class FakeLink implements FrameLink {
  readonly sent: Buffer[] = [];
  private readonly handlers: Array<(frame: Buffer, answered: boolean) => void> = [];
  down = false;
  closed = false;

  constructor(
    readonly name: string,
    readonly mac: MacString,
  ) {}

  send(frame: Buffer): void {
    if (this.down) throw Object.assign(new Error('sendto(AF_PACKET): Network is down'), { code: 'ENETDOWN' });
    this.sent.push(Buffer.from(frame));
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
