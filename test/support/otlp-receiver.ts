import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
}

interface KeyValue {
  key: string;
  value: Record<string, unknown>;
}

/** A loopback OpenTelemetry collector stand-in: accepts OTLP/HTTP JSON and keeps what it receives. */
export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  readonly metricNames = new Set<string>();
  private server?: Server;

  async start(): Promise<string> {
    this.server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        this.receive(request.url ?? '', JSON.parse(body || '{}'));
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }

  /** Polls until a received span matches. */
  async span(predicate: (span: ReceivedSpan) => boolean, timeoutMs = 20_000): Promise<ReceivedSpan> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const span = this.spans.find(predicate);
      if (span) return span;
      if (Date.now() > deadline)
        throw new Error(`no such span among ${this.spans.map((s) => s.name).join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  private receive(path: string, payload: Record<string, unknown[]>): void {
    if (path === '/v1/traces') {
      for (const { scopeSpans } of payload.resourceSpans as {
        scopeSpans: { spans: Record<string, unknown>[] }[];
      }[]) {
        for (const { spans } of scopeSpans) {
          for (const span of spans) {
            this.spans.push({
              ...(span as unknown as ReceivedSpan),
              attributes: Object.fromEntries(
                (span.attributes as KeyValue[]).map(({ key, value }) => [key, Object.values(value)[0]]),
              ),
            });
          }
        }
      }
    }
    if (path === '/v1/metrics') {
      for (const { scopeMetrics } of payload.resourceMetrics as {
        scopeMetrics: { metrics: { name: string }[] }[];
      }[]) {
        for (const { metrics } of scopeMetrics) for (const { name } of metrics) this.metricNames.add(name);
      }
    }
  }
}
