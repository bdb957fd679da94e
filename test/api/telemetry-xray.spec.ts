import { vi } from 'vitest';
vi.hoisted(() => {
  process.env.OTEL_TRACES_SAMPLER = 'xray';
});
// The SDK must start before http and pg load (and after the sampler is set): this import comes first.
import { finishedSpans } from '../support/telemetry.js';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useTestApp } from '../support/app.js';
import { user } from '../support/tokens.js';

const t = useTestApp();
const alice = user();

describe('X-Ray sampling rules (OTEL_TRACES_SAMPLER=xray), before any rule has been read', () => {
  it("applies X-Ray's default rule: the first request of a second, then about 5 % of the others", async () => {
    const requests = 60;
    const traceIds: string[] = [];
    // The rule's reservoir starts empty and fills at 1 a second: once a second has passed since the SDK started, the
    // next request is recorded whatever the 5 % draw gives (which records none of 60 about one time in 20).
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const started = performance.now();
    for (let sent = 0; sent < requests; sent++) {
      const response = await t
        .http()
        .get(`/v1/projects/${randomUUID()}`)
        .set('authorization', alice.authorization)
        .expect(404);
      traceIds.push(response.body.traceId);
    }
    // Every request has a trace id to quote, recorded or not.
    expect(new Set(traceIds).size).toBe(requests);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const recorded = finishedSpans().filter((span) => span.name === 'GET /v1/projects/:id');
    expect(recorded.length).toBeGreaterThanOrEqual(1);
    // At 1 a second + 5 %: one a second they took (and the one waiting at the start), plus about 3 of the 60.
    const seconds = Math.ceil((performance.now() - started) / 1000);
    expect(recorded.length).toBeLessThan(seconds + 1 + 12);
    expect(traceIds).toContain(recorded[0]!.spanContext().traceId);
  });
});
