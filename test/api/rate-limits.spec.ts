import { describe, expect, it } from 'vitest';
import { QUOTA_EXCEEDED } from '../../src/auth/rate-limit.guard.js';
import { useTestApp } from '../support/app.js';
import { responseContract, type OpenApiDocument } from '../support/openapi-responses.js';
import { ProbeModule } from '../support/probe.module.js';
import { user } from '../support/tokens.js';

/** Per-caller budgets: reads, writes (and event ingestion) counted apart, per user, machine client or IP. */
describe('rate limits', () => {
  const t = useTestApp({
    env: {
      RATE_LIMIT_READS_PER_MINUTE: '5',
      RATE_LIMIT_WRITES_PER_MINUTE: '3',
      RATE_LIMIT_EVENTS_PER_MINUTE: '2',
    },
    modules: [ProbeModule],
  });
  const create = (caller: { authorization: string }, name: string) =>
    t.http().post('/v1/projects').set('authorization', caller.authorization).send({ name });

  it('counts the writes of one user, and answers 429 problem+json with Retry-After past the budget', async () => {
    const contract = responseContract((await t.http().get('/openapi.json')).body as OpenApiDocument);
    const alice = user();
    for (let i = 1; i <= 3; i++) {
      const response = await create(alice, `limited-${i}`);
      expect(response.status).toBe(201);
      expect(contract('POST', '/v1/projects', response)).toEqual([]);
      expect(response.headers['ratelimit-policy']).toBe('"write";q=3;w=60');
      expect(response.headers['ratelimit']).toMatch(new RegExp(`^"write";r=${3 - i};t=\\d+$`));
    }
    const refused = await create(alice, 'limited-4');
    expect(refused.status).toBe(429);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.headers['ratelimit']).toMatch(/^"write";r=0;t=\d+$/);
    expect(refused.body).toMatchObject({ status: 429, type: QUOTA_EXCEEDED, 'violated-policies': ['write'] });
    expect(contract('POST', '/v1/projects', refused)).toEqual([]);
    // Reads have a budget of their own; another user has theirs.
    expect((await t.http().get('/v1/projects').set('authorization', alice.authorization)).status).toBe(200);
    expect((await create(user(), 'someone else')).status).toBe(201);
  });

  it('limits anonymous callers by IP, and never the health probes', async () => {
    const echo = () => t.http().post('/test-probe/echo').send({ name: 'anonymous' });
    for (let i = 0; i < 3; i++) expect((await echo()).status).toBe(201);
    expect((await echo()).status).toBe(429);
    for (let i = 0; i < 10; i++) {
      const probe = await t.http().get('/health/live');
      expect(probe.status).toBe(200);
      expect(probe.headers['ratelimit']).toBeUndefined();
    }
  });

  describe('behind a proxy (TRUSTED_PROXY_HOPS=1)', () => {
    const proxied = useTestApp({
      env: { RATE_LIMIT_WRITES_PER_MINUTE: '2', TRUSTED_PROXY_HOPS: '1' },
      modules: [ProbeModule],
    });
    const echo = (forwardedFor: string) =>
      proxied
        .http()
        .post('/test-probe/echo')
        .set('x-forwarded-for', forwardedFor)
        .send({ name: 'anonymous' });

    it('limits anonymous callers by the address the proxy saw, whatever the client wrote before it', async () => {
      expect((await echo('203.0.113.7')).status).toBe(201);
      // What the client put in the header itself is not believed: the proxy appended the address it saw.
      expect((await echo('198.51.100.1, 203.0.113.7')).status).toBe(201);
      expect((await echo('198.51.100.2, 203.0.113.7')).status).toBe(429);
      expect((await echo('203.0.113.8')).status).toBe(201);
    });

    it('counts the addresses of one IPv6 /64 as one client', async () => {
      expect((await echo('2001:db8:1:2::1')).status).toBe(201);
      expect((await echo('2001:db8:1:2::ffff')).status).toBe(201);
      expect((await echo('2001:db8:1:2:abcd::7')).status).toBe(429);
      expect((await echo('2001:db8:1:3::1')).status).toBe(201);
    });
  });
});
