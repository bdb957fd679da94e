import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ephemeralRange, FETCH_REFUSES, freePort, isFree } from '../../tools/dev/ports.js';

describe('freePort', () => {
  it('gives ports outside the ephemeral range, which no outgoing connection can take before the server binds them', async () => {
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    const [first, last] = ephemeralRange();
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(10_000);
      expect(port < first || port > last, `${port} in ${first}–${last}`).toBe(true);
    }
    // At random: parallel callers do not all try the same port.
    expect(new Set(ports).size).toBeGreaterThan(15);
  });

  it('never gives the port fetch refuses, which a probe of the server by fetch could never reach', async () => {
    await expect(fetch(`http://127.0.0.1:${FETCH_REFUSES}/`)).rejects.toMatchObject({
      cause: { message: 'bad port' },
    });
    const ports = await Promise.all(Array.from({ length: 200 }, () => freePort()));
    expect(ports).not.toContain(FETCH_REFUSES);
  });

  it.each(['127.0.0.1', '::1'])(
    'gives a port a server can listen on, and isFree sees it taken while one listens on %s',
    async (host) => {
      const port = await freePort();
      const server = createServer();
      const listening = await new Promise<boolean>((resolve) => {
        server.once('error', () => resolve(false)); // no IPv6 on this machine: nothing to take there
        server.listen(port, host, () => resolve(true));
      });
      if (!listening) return expect(await isFree(port)).toBe(true);
      try {
        expect(await isFree(port)).toBe(false);
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
      expect(await isFree(port)).toBe(true);
    },
  );
});
