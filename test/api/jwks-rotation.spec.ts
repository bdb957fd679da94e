import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenVerifier } from '../../src/auth/token-verifier.js';
import { createSigningKey, mintAccessToken } from '../../tools/dev/dev-issuer.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { TEST_CLIENT_ID, TEST_ISSUER } from '../support/tokens.js';
import { until } from '../support/until.js';

/** Signing keys rotate: a token verified with a key that has left the JWKS is refused from then on. */
describe('JWKS rotation', () => {
  const [oldKey, newKey] = [createSigningKey(), createSigningKey()];
  let published: { keys: unknown[] } = { keys: [...oldKey.jwks.keys, ...newKey.jwks.keys] };
  /** What the JWKS endpoint answers: 200 with `published`, or an outage's status. */
  let jwksStatus = 200;
  /** Failures to answer slowly, before answering as above: `[status, after ms]`, one request each. */
  const slowFailures: [number, number][] = [];
  let requests = 0;
  let server: Server;
  let db: TestDatabase;
  let t: TestApp;

  beforeAll(async () => {
    server = createServer((_request, response) => {
      requests++;
      const slow = slowFailures.shift();
      if (slow) {
        setTimeout(() => response.writeHead(slow[0]).end('{}'), slow[1]);
        return;
      }
      response
        .writeHead(jwksStatus, { 'content-type': 'application/json' })
        .end(jwksStatus === 200 ? JSON.stringify(published) : '{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    db = await createTestDatabase();
    t = await createTestApp({
      databaseUrl: db.url,
      env: {
        COGNITO_JWKS_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`,
      },
    });
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
    server?.close();
  });

  const token = (key: typeof oldKey, sub = '6a1f2e0c-51a4-4d8b-9c1e-2f0b7d3e9a10') =>
    mintAccessToken(key, {
      username: 'rotating',
      sub,
      clientId: TEST_CLIENT_ID,
      issuer: TEST_ISSUER,
    });
  const me = (value: string) => t.http().get('/v1/me').set('authorization', `Bearer ${value}`);

  it('verifies a token of a key added right after a forged token named a key id that does not exist', async () => {
    const forged = mintAccessToken(createSigningKey(), {
      username: 'forger',
      sub: '0b7e4c1a-2f3d-4e5a-8b9c-0d1e2f3a4b5c',
      clientId: TEST_CLIENT_ID,
      issuer: TEST_ISSUER,
    });
    expect((await me(forged)).status).toBe(401);
    const addedKey = createSigningKey();
    published = { keys: [...published.keys, ...addedKey.jwks.keys] };
    expect((await me(token(addedKey))).status).toBe(200);
  });

  it('drops cached verifications made with a removed key when the JWKS is fetched again', async () => {
    const signedWithOld = token(oldKey);
    expect((await me(signedWithOld)).status).toBe(200);
    expect((await me(signedWithOld)).status).toBe(200); // now served from the verified-token cache

    published = { keys: [...newKey.jwks.keys] };
    await t.app.get(TokenVerifier).refreshKeys();

    expect((await me(signedWithOld)).status).toBe(401);
    expect((await me(token(newKey))).status).toBe(200);
  });

  it('answers 503, not 401, to a token of a key not known yet while the JWKS cannot be fetched', async () => {
    expect((await me(token(newKey))).status).toBe(200);
    const rotatedTo = createSigningKey();
    published = { keys: [...published.keys, ...rotatedTo.jwks.keys] };
    jwksStatus = 502;
    try {
      const refused = await me(token(rotatedTo));
      expect(refused.status).toBe(503);
      expect(refused.headers['retry-after']).toBe('5');
      expect(refused.headers['www-authenticate']).toBeUndefined();
      expect((await me(token(newKey))).status).toBe(200); // keys known already still verify
    } finally {
      jwksStatus = 200;
    }
    await t.app.get(TokenVerifier).refreshKeys();
    expect((await me(token(rotatedTo))).status).toBe(200);
  });

  it('answers 503 to a token whose key fetch failed, though another fetch got through meanwhile', async () => {
    const rotatedTo = createSigningKey();
    published = { keys: [...published.keys, ...rotatedTo.jwks.keys] };
    slowFailures.push([502, 500]);
    const before = requests;
    const refused = me(token(rotatedTo)).then((response) => response);
    expect(await until(() => requests > before, { everyMs: 10 })).toBe(true);
    await t.app.get(TokenVerifier).refreshKeys(); // the 10-minute refresh, answered at once
    expect((await refused).status).toBe(503);
    expect((await me(token(rotatedTo, randomUUID()))).status).toBe(200);
  });

  it('keeps the keys it has when the JWKS endpoint answers JSON that is not a key set', async () => {
    const keySet = published;
    published = { message: 'Internal server error' } as never;
    await expect(t.app.get(TokenVerifier).refreshKeys()).rejects.toThrow(/JWKS/);
    published = keySet;
    // Not verified before, so not served from the verified-token cache.
    expect((await me(token(newKey, randomUUID()))).status).toBe(200);
  });
});
