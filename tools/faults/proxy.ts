/**
 * A TCP proxy between the app and PostgreSQL whose behaviour is switched while it runs, to inject the network faults
 * of `npm run faults`:
 * - pass: forwards both ways;
 * - drop: an outage — every open connection is reset (RST), and so is every new one as soon as it is accepted (the
 *   port stays bound, so that no other process can take it meanwhile);
 * - blackhole: a frozen server or a black-holed network path — every connection open now or opened meanwhile stays
 *   open but never carries another byte either way, even after the fault (its PostgreSQL session is closed, so its
 *   transaction rolls back, as a failed-over server's would); connections opened after the fault work;
 * - delay: every chunk waits `ms` before it is forwarded, in both directions, order kept;
 * - reset: every 500 ms each open connection is reset (RST) with probability `probability`.
 */
import net from 'node:net';

export type ProxyMode =
  | { kind: 'pass' }
  | { kind: 'drop' }
  | { kind: 'blackhole' }
  | { kind: 'delay'; ms: number }
  | { kind: 'reset'; probability: number };

export interface Address {
  host: string;
  port: number;
}

const RESET_EVERY_MS = 500;

/** One direction of a connection: chunks written in order, each no earlier than its due time; `null` ends it. */
class Pipe {
  private readonly queue: { chunk: Buffer | null; due: number }[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly from: net.Socket,
    private readonly to: net.Socket,
  ) {}

  push(chunk: Buffer | null, delayMs: number): void {
    this.queue.push({ chunk, due: Date.now() + delayMs });
    this.flush();
  }

  /** Forgets what is queued (a frozen or closed connection). */
  clear(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
  }

  private flush(): void {
    while (this.timer === undefined && this.queue.length > 0) {
      const { chunk, due } = this.queue[0]!;
      const wait = due - Date.now();
      if (wait > 0) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.flush();
        }, wait);
        return;
      }
      this.queue.shift();
      if (chunk === null) {
        this.to.end();
      } else if (!this.to.write(chunk) && !this.from.isPaused()) {
        this.from.pause();
        this.to.once('drain', () => this.from.resume());
      }
    }
  }
}

/** An accepted connection and its way to PostgreSQL (none once frozen). */
interface Link {
  client: net.Socket;
  server?: net.Socket;
  pipes: Pipe[];
  frozen: boolean;
}

export class FaultProxy {
  private readonly links = new Set<Link>();
  private mode: ProxyMode = { kind: 'pass' };
  private resetTimer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly listener: net.Server,
    private readonly target: Address,
  ) {}

  /** A proxy to `target` on a free loopback port, in pass mode. */
  static async start(target: Address): Promise<FaultProxy> {
    const listener = net.createServer({ allowHalfOpen: true });
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(0, '127.0.0.1', resolve);
    });
    const proxy = new FaultProxy(listener, target);
    listener.on('connection', (client: net.Socket) => proxy.accept(client));
    return proxy;
  }

  get address(): Address {
    return { host: '127.0.0.1', port: (this.listener.address() as net.AddressInfo).port };
  }

  setMode(mode: ProxyMode): void {
    this.mode = mode;
    clearInterval(this.resetTimer);
    switch (mode.kind) {
      case 'drop':
        for (const link of this.links) this.reset(link);
        break;
      case 'blackhole':
        for (const link of this.links) this.freeze(link);
        break;
      case 'reset':
        this.resetTimer = setInterval(() => {
          for (const link of this.links) {
            if (!link.frozen && Math.random() < mode.probability) this.reset(link);
          }
        }, RESET_EVERY_MS);
        break;
    }
  }

  /** Closes the port and every connection. */
  async stop(): Promise<void> {
    clearInterval(this.resetTimer);
    for (const link of this.links) this.reset(link);
    await new Promise<void>((resolve) => this.listener.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    const link: Link = { client, pipes: [], frozen: false };
    this.links.add(link);
    client.on('error', () => this.reset(link));
    client.on('close', () => this.reset(link));
    if (this.mode.kind === 'drop') {
      this.reset(link);
      return;
    }
    if (this.mode.kind === 'blackhole') {
      this.freeze(link);
      return;
    }
    const server = net.connect({ ...this.target, allowHalfOpen: true });
    link.server = server;
    server.on('error', () => this.reset(link));
    server.on('close', () => link.frozen || this.reset(link));
    this.forward(link, client, server);
    this.forward(link, server, client);
  }

  private forward(link: Link, from: net.Socket, to: net.Socket): void {
    const pipe = new Pipe(from, to);
    link.pipes.push(pipe);
    const delay = () => (this.mode.kind === 'delay' ? this.mode.ms : 0);
    from.on('data', (chunk: Buffer) => link.frozen || pipe.push(chunk, delay()));
    from.on('end', () => link.frozen || pipe.push(null, delay()));
  }

  /** From now on the connection carries nothing; the app's side stays open until the app closes it. */
  private freeze(link: Link): void {
    if (link.frozen) return;
    link.frozen = true;
    for (const pipe of link.pipes) pipe.clear();
    link.server?.destroy();
    // Keep reading (and discarding) so that the app closing its side is noticed.
    link.client.on('data', () => undefined);
    link.client.on('end', () => this.reset(link));
    link.client.resume();
  }

  /** Aborts both sides (RST) and forgets the connection. */
  private reset(link: Link): void {
    if (!this.links.delete(link)) return;
    for (const pipe of link.pipes) pipe.clear();
    for (const socket of [link.client, link.server]) {
      if (socket && !socket.destroyed) socket.resetAndDestroy();
    }
  }
}
