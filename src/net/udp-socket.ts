// A bound UDP socket for the speaker's heartbeats (election/beat-exchange.ts):
// node:dgram, one socket per speaker on the node's address, sending and
// receiving on the same port so an ack goes back to where the beat came from.
// Nothing here knows what a beat is.
import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';

export interface UdpEndpoint {
  host: string;
  port: number;
}

export interface UdpSocket {
  send(datagram: Buffer, to: UdpEndpoint, done: (err?: Error) => void): void;
  close(): void;
}

/** Parses "192.0.2.11:7474" or "[2001:db8::11]:7474"; throws a RangeError that names what is wrong. */
export function parseUdpEndpoint(s: string): UdpEndpoint {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):(\d{1,5})$/.exec(s);
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (host === undefined || isIP(host) === 0) throw new RangeError(`not host:port with an IP address: ${JSON.stringify(s)}`);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new RangeError(`port out of range in ${JSON.stringify(s)}`);
  return { host, port };
}

export function formatUdpEndpoint(e: UdpEndpoint): string {
  return isIP(e.host) === 6 ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}

/**
 * Binds host:port. Messages arrive through onMessage, socket errors after the
 * bind through onError (the socket stays open; a send error is reported to
 * its own callback).
 */
export function openUdpSocket(
  at: UdpEndpoint,
  onMessage: (datagram: Buffer, from: UdpEndpoint) => void,
  onError: (err: Error) => void,
): Promise<UdpSocket> {
  const socket: Socket = createSocket({ type: isIP(at.host) === 6 ? 'udp6' : 'udp4', reuseAddr: false });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(at.port, at.host, () => {
      socket.off('error', reject);
      socket.on('error', onError);
      socket.on('message', (msg, rinfo) => onMessage(msg, { host: rinfo.address, port: rinfo.port }));
      resolve({
        send: (datagram, to, done) => socket.send(datagram, to.port, to.host, (err) => done(err ?? undefined)),
        close: () => socket.close(),
      });
    });
  });
}
