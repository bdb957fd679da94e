import { vi } from 'vitest';
vi.hoisted(() => {
  process.env.OTEL_TRACES_SAMPLER = 'parentbased_traceidratio';
  process.env.OTEL_TRACES_SAMPLER_ARG = '0';
});
// The SDK must start before http and pg load (and after the sampler is set): this import comes first.
import { finishedSpans } from '../support/telemetry.js';
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, trace } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { describe, expect, it } from 'vitest';
import { useTestApp } from '../support/app.js';
import { user } from '../support/tokens.js';

const t = useTestApp();
const alice = user();

describe('sampling at 0', () => {
  it('records no spans, yet continues the incoming trace context', async () => {
    const traceId = randomBytes(16).toString('hex');
    const response = await context.with(suppressTracing(context.active()), async () =>
      t
        .http()
        .get(`/v1/projects/${randomUUID()}`)
        .set('authorization', alice.authorization)
        .set('traceparent', `00-${traceId}-${randomBytes(8).toString('hex')}-00`)
        .expect(404),
    );
    expect(response.body.traceId).toBe(traceId);
    expect(finishedSpans()).toEqual([]);
  });

  it('propagates an unsampled trace to outgoing calls', async () => {
    const received: string[] = [];
    const peer = http.createServer((request, response) => {
      received.push(String(request.headers.traceparent));
      response.end();
    });
    await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve));
    try {
      const caller = await trace.getTracer('test').startActiveSpan('caller', async (span) => {
        await (await fetch(`http://127.0.0.1:${(peer.address() as AddressInfo).port}/`)).text();
        span.end();
        return span;
      });
      expect(caller.isRecording()).toBe(false);
      // Same trace, "not sampled" flag: the next service does not record it either.
      expect(received).toHaveLength(1);
      expect(received[0]).toMatch(new RegExp(`^00-${caller.spanContext().traceId}-[0-9a-f]{16}-00$`));
      expect(finishedSpans()).toEqual([]);
    } finally {
      await new Promise((resolve) => peer.close(resolve));
    }
  });

  it('still gives an unsampled request a trace id to quote', async () => {
    const response = await t
      .http()
      .get(`/v1/projects/${randomUUID()}`)
      .set('authorization', alice.authorization)
      .expect(404);
    expect(response.body.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(finishedSpans()).toEqual([]);
  });
});
