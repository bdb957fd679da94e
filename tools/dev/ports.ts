import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** Where `freePort` looks: above the ports common services use, below the kernel's ephemeral range. */
const LOWEST_PORT = 10_000;

/**
 * A loopback port nothing listens on, for a server that is told its port before it binds it (PostgreSQL, an app
 * process, an emulator), and may bind it again after a restart. Taken at random below the kernel's ephemeral range:
 * a port from that range can meanwhile become the local end of any outgoing connection, and the server's bind then
 * fails with `EADDRINUSE`; at random, parallel test files do not try the same ports.
 */
export async function freePort(): Promise<number> {
  const ephemeral = ephemeralRangeStart();
  for (let attempt = 0; ephemeral - LOWEST_PORT >= 1_000 && attempt < 100; attempt++) {
    const port = randomInt(LOWEST_PORT, ephemeral);
    if (await isFree(port)) return port;
  }
  // An ephemeral range that leaves no room below it: any port the kernel gives.
  return kernelPort();
}

/** Whether a port on loopback is free to listen on. */
export function isFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const probe = createServer();
    probe.once('error', () => done(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => done(true)));
  });
}

/** The first port the kernel gives outgoing connections: Linux's setting, elsewhere the IANA range's. */
export function ephemeralRangeStart(): number {
  try {
    const first = Number(
      readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0],
    );
    if (Number.isInteger(first)) return first;
  } catch {
    // Not Linux.
  }
  return 49_152;
}

function kernelPort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once('error', fail);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? done(address.port) : fail(new Error('no port')),
      );
    });
  });
}
