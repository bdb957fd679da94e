import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { ToolError } from './run-tool.js';

/** A port number a variable sets (`PORT`, `DEV_DB_PORT`): decimal digits, 1 to 65535; else a ToolError naming it. */
export function portNumber(variable: string, value: string): number {
  const port = Number(value.trim());
  if (!/^\d+$/.test(value.trim()) || port < 1 || port > HIGHEST_PORT) {
    throw new ToolError(`${variable} must be a port number from 1 to 65535, not ${JSON.stringify(value)}`);
  }
  return port;
}

/** Where `freePort` looks, outside the kernel's ephemeral range: above the ports common services use. */
const LOWEST_PORT = 10_000;
const HIGHEST_PORT = 65_535;
/** The one port of that range that browsers and Node's `fetch` refuse to call (the Fetch standard's "bad ports"). */
export const FETCH_REFUSES = 10_080;

/**
 * A loopback port nothing listens on, for a server that is told its port before it binds it (PostgreSQL, an app
 * process, an emulator), and may bind it again after a restart. Taken at random outside the kernel's ephemeral
 * range: a port from that range can meanwhile become the local end of any outgoing connection, and the server's bind
 * then fails with `EADDRINUSE`; at random, parallel test files do not try the same ports.
 */
export async function freePort(): Promise<number> {
  const [first, last] = ephemeralRange();
  const aboveFrom = Math.max(last + 1, LOWEST_PORT);
  const below = Math.max(0, first - LOWEST_PORT);
  const above = Math.max(0, HIGHEST_PORT + 1 - aboveFrom);
  for (let attempt = 0; below + above >= 1_000 && attempt < 100; attempt++) {
    const pick = randomInt(below + above);
    const port = pick < below ? LOWEST_PORT + pick : aboveFrom + (pick - below);
    if (port !== FETCH_REFUSES && (await isFree(port))) return port;
  }
  // A range that leaves no room outside it: any port the kernel gives.
  return kernelPort();
}

/**
 * Whether a port on loopback is free to listen on, on IPv4 and IPv6: `localhost` may name either, and a server on
 * ::1 alone would answer a URL printed for this port.
 */
export async function isFree(port: number): Promise<boolean> {
  return (await canListen(port, '127.0.0.1')) && (await canListen(port, '::1'));
}

function canListen(port: number, host: string): Promise<boolean> {
  return new Promise((done) => {
    const probe = createServer();
    // A machine without IPv6 has no ::1 to take.
    probe.once('error', (error: NodeJS.ErrnoException) =>
      done(error.code === 'EADDRNOTAVAIL' || error.code === 'EAFNOSUPPORT'),
    );
    probe.listen(port, host, () => probe.close(() => done(true)));
  });
}

/** The ports the kernel gives outgoing connections: Linux's setting, elsewhere the IANA range. */
export function ephemeralRange(): [number, number] {
  try {
    const setting = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8');
    const [first = NaN, last = NaN] = setting.trim().split(/\s+/).map(Number);
    if (1_024 <= first && first <= last && last <= HIGHEST_PORT) return [first, last];
  } catch {
    // Not Linux.
  }
  return [49_152, HIGHEST_PORT];
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
