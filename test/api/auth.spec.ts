import { createHmac, createPrivateKey, createPublicKey, randomUUID, sign as rsaSign } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { base64url, createSigningKey, serveJwks, signJwt } from '../../tools/dev/dev-issuer.js';
import { freePort } from '../../tools/dev/ports.js';
import { createTestApp, useTestApp, type TestApp } from '../support/app.js';
import { claims, kid, machine, sign, TEST_CLIENT_ID, TEST_ISSUER, token, user } from '../support/tokens.js';

const ME = '/v1/me';
const issuerPrivateKey = () => inject('signingKey').privateKeyPem;
const issuerPublicKeyPem = () =>
  createPublicKey(issuerPrivateKey()).export({ type: 'spki', format: 'pem' }).toString();
const issuerPublicJwk = () => createPublicKey(issuerPrivateKey()).export({ format: 'jwk' });

describe('authentication', () => {
  const t = useTestApp();

  const call = (headers: Record<string, string | string[]>, url = ME) =>
    t.app.getHttpAdapter().getInstance().inject({ method: 'GET', url, headers });

  describe('JWT attack corpus', () => {
    const attacker = createSigningKey();
    const otherPool = createSigningKey();
    const valid = () => claims({ username: 'mallory', sub: randomUUID() });
    const header = () => ({ alg: 'RS256', kid: kid() });
    const enc = (value: unknown) => base64url(JSON.stringify(value));
    const resign = (h: object, p: object) => sign(h, p);
    const swapPayload = (jwt: string, payload: object) => {
      const [h, , s] = jwt.split('.');
      return `${h}.${enc(payload)}.${s}`;
    };
    const hs256 = (secret: string | Buffer, h: object = { alg: 'HS256', kid: kid() }) => {
      const input = `${enc(h)}.${enc(valid())}`;
      return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
    };

    const cases: [string, () => string | Record<string, string | string[]>][] = [];
    const add = (name: string, make: () => string | Record<string, string | string[]>) =>
      cases.push([name, make]);

    for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
      add(`alg "${alg}", empty signature`, () => `${enc({ alg, kid: kid() })}.${enc(valid())}.`);
    }
    add('alg none keeping a valid signature', () => {
      const [, p, s] = token({ username: 'mallory' }).split('.');
      return `${enc({ alg: 'none', kid: kid() })}.${p}.${s}`;
    });
    add('empty signature', () => `${token({ username: 'mallory' }).split('.').slice(0, 2).join('.')}.`);
    add('"null" signature', () => `${token({ username: 'mallory' }).split('.').slice(0, 2).join('.')}.null`);
    add('HS256 signed with the RSA public key (PEM)', () => hs256(issuerPublicKeyPem()));
    add('HS256 signed with the RSA public key (JWK JSON)', () => hs256(JSON.stringify(issuerPublicJwk())));
    add('HS256 without kid', () => hs256(issuerPublicKeyPem(), { alg: 'HS256' }));
    add('RS512 header on an RS256 signature', () => {
      const [, p, s] = token({ username: 'mallory' }).split('.');
      return `${enc({ alg: 'RS512', kid: kid() })}.${p}.${s}`;
    });
    for (const alg of ['PS256', 'ES256', 'EdDSA']) {
      add(`${alg} header`, () => {
        const [, p, s] = token({ username: 'mallory' }).split('.');
        return `${enc({ alg, kid: kid() })}.${p}.${s}`;
      });
    }
    add('tampered payload: username', () =>
      swapPayload(token({ username: 'mallory' }), { ...valid(), username: 'alice' }),
    );
    add('tampered payload: admin group added', () =>
      swapPayload(token({ username: 'mallory' }), { ...valid(), 'cognito:groups': ['admin'] }),
    );
    add('tampered payload: exp extended', () =>
      swapPayload(token({ username: 'mallory', expiresInSeconds: -10 }), { ...valid(), exp: 9_999_999_999 }),
    );
    add('flipped signature bit', () => {
      const [h, p, s] = token({ username: 'mallory' }).split('.');
      const bytes = Buffer.from(s!, 'base64url');
      bytes[10]! ^= 0x01;
      return `${h}.${p}.${bytes.toString('base64url')}`;
    });
    add('truncated signature', () => token({ username: 'mallory' }).slice(0, -20));
    add('missing kid', () => resign({ alg: 'RS256' }, valid()));
    add('unknown kid', () => resign({ alg: 'RS256', kid: 'unknown-key-id' }, valid()));
    add('kid path traversal', () => resign({ alg: 'RS256', kid: '../../../../dev/null' }, valid()));
    add('kid SQL injection', () => resign({ alg: 'RS256', kid: "x' OR '1'='1" }, valid()));
    add('our kid, signed by another key', () => signJwt(header(), valid(), attacker.privateKeyPem));
    add('embedded jwk header (attacker key)', () =>
      signJwt(
        { ...header(), kid: attacker.kid, jwk: attacker.jwks.keys[0] },
        valid(),
        attacker.privateKeyPem,
      ),
    );
    add('jku header to an attacker JWKS', () =>
      signJwt(
        { ...header(), kid: attacker.kid, jku: 'http://127.0.0.1:1/jwks.json' },
        valid(),
        attacker.privateKeyPem,
      ),
    );
    add('x5u header to an attacker certificate', () =>
      signJwt(
        { ...header(), kid: attacker.kid, x5u: 'http://127.0.0.1:1/cert.pem' },
        valid(),
        attacker.privateKeyPem,
      ),
    );
    add('x5c header with a junk chain', () =>
      signJwt({ ...header(), x5c: ['MIIB'] }, valid(), attacker.privateKeyPem),
    );
    add('expired', () => token({ username: 'mallory', expiresInSeconds: -60 }));
    add('nbf in the future', () =>
      resign(header(), { ...valid(), nbf: Math.floor(Date.now() / 1000) + 3600 }),
    );
    add('wrong issuer', () =>
      resign(header(), { ...valid(), iss: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other' }),
    );
    add("another pool's correctly signed token", () =>
      signJwt(
        { alg: 'RS256', kid: otherPool.kid },
        { ...valid(), iss: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_OtherPool' },
        otherPool.privateKeyPem,
      ),
    );
    add('wrong client id', () => token({ username: 'mallory', clientId: 'another-client' }));
    add('ID token instead of access token', () =>
      resign(header(), { ...valid(), token_use: 'id', aud: TEST_CLIENT_ID, client_id: undefined }),
    );
    add('no exp', () => resign(header(), { ...valid(), exp: undefined }));
    add('no sub', () => resign(header(), { ...valid(), sub: undefined }));
    for (const claim of ['exp', 'iss', 'client_id', 'token_use', 'sub', 'nbf']) {
      for (const value of [null, true, 0, 'x']) {
        if (claim === 'sub' && value === 'x') continue; // any non-empty string is a well-formed subject
        if (claim === 'nbf' && value === 0) continue; // nbf 0 is in the past: well-formed
        add(`${claim} = ${JSON.stringify(value)}`, () => resign(header(), { ...valid(), [claim]: value }));
      }
    }
    add('garbage', () => 'garbage');
    add('two segments', () => token({ username: 'mallory' }).split('.').slice(0, 2).join('.'));
    add('four segments', () => `${token({ username: 'mallory' })}.abc`);
    add('header is not JSON', () => `${base64url('not json')}.${enc(valid())}.c2ln`);
    add('payload is not JSON', () => resignRaw(enc(header()), base64url('{"sub":')));
    add('payload is a JSON array', () => resignRaw(enc(header()), enc([valid()])));
    add('a 20 KB token', () => resign(header(), { ...valid(), padding: 'x'.repeat(20_000) }));
    add('whitespace inside the token', () => token({ username: 'mallory' }).replace('.', ' .'));
    add('two Authorization headers', () => ({
      authorization: [`Bearer ${token({ username: 'a' })}`, `Bearer ${token({ username: 'b' })}`],
    }));
    add('token in the query string only', () => ({
      'x-url': `${ME}?access_token=${token({ username: 'mallory' })}`,
    }));
    add('token in a cookie only', () => ({ cookie: `access_token=${token({ username: 'mallory' })}` }));
    add('Basic scheme', () => ({ authorization: `Basic ${token({ username: 'mallory' })}` }));
    add('Bearer with trailing junk', () => ({
      authorization: `Bearer ${token({ username: 'mallory' })} extra`,
    }));
    add('bare token without scheme', () => ({ authorization: token({ username: 'mallory' }) }));

    /** A correct RS256 signature over arbitrary (possibly malformed) encoded segments. */
    function resignRaw(h: string, p: string): string {
      return `${h}.${p}.${createSignature(`${h}.${p}`)}`;
    }

    it('has at least 40 cases', () => {
      expect(cases.length).toBeGreaterThanOrEqual(40);
    });

    it('accepts a valid control token before the corpus', async () => {
      expect((await call({ authorization: `Bearer ${user().token}` })).statusCode).toBe(200);
    });

    it.each(cases)('%s → 401 problem+json, never 5xx', async (_name, make) => {
      const made = make();
      const { 'x-url': url, ...headers } =
        typeof made === 'string' ? { authorization: `Bearer ${made}` } : made;
      const response = await call(headers, typeof url === 'string' ? url : ME);
      expect([401, 431]).toContain(response.statusCode);
      if (response.statusCode === 401) {
        expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
        expect(response.body).not.toMatch(/Jwt|kid|signature|JWKS/i); // the reason goes to the log only
      }
    });

    it('accepts a valid control token after the corpus', async () => {
      expect((await call({ authorization: `Bearer ${user().token}` })).statusCode).toBe(200);
    });
  });

  it('property: no mutation of a valid token is accepted, and none causes a 5xx', async () => {
    const original = user().token;
    const decoded = (jwt: string) =>
      jwt.split('.').map((part) => Buffer.from(part, 'base64url').toString('hex'));
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ '.split('');
    const mutation = fc.oneof(
      fc.record({
        kind: fc.constant('replace' as const),
        at: fc.nat(original.length - 1),
        char: fc.constantFrom(...alphabet),
      }),
      fc.record({
        kind: fc.constant('insert' as const),
        at: fc.nat(original.length),
        char: fc.constantFrom(...alphabet),
      }),
      fc.record({
        kind: fc.constant('delete' as const),
        at: fc.nat(original.length - 1),
        char: fc.constant(''),
      }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (mutations) => {
        let mutated = original;
        for (const { kind, at, char } of mutations) {
          const index = Math.min(at, mutated.length);
          mutated = mutated.slice(0, index) + char + mutated.slice(index + (kind === 'insert' ? 0 : 1));
        }
        // Changing only base64 padding bits leaves the same bytes: the same token, rightly accepted.
        fc.pre(mutated.split('.').length !== 3 || decoded(mutated).join('.') !== decoded(original).join('.'));
        const response = await call({ authorization: `Bearer ${mutated}` });
        expect(response.statusCode).toBeLessThan(500);
        expect(response.statusCode).not.toBe(200);
      }),
      { numRuns: 300 },
    );
  });

  describe('challenges (RFC 6750 §3)', () => {
    it.each([
      ['no Authorization header', {}],
      ['another scheme', { authorization: 'Basic YWxpY2U6c2VjcmV0' }],
    ])('%s: 401 with a bare Bearer challenge (no error code)', async (_name, headers) => {
      const response = await call(headers);
      expect(response.statusCode).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Bearer');
    });

    it('a bad Bearer token: 401 invalid_token', async () => {
      const response = await call({ authorization: 'Bearer a.b.c' });
      expect(response.statusCode).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    });

    it('accepts more than one space after the scheme (RFC 7235: 1*SP)', async () => {
      expect((await call({ authorization: `Bearer   ${user().token}` })).statusCode).toBe(200);
    });

    it('a valid token without the role or scope: 403 insufficient_scope, naming the scopes that would do', async () => {
      const signedIn = await call({ authorization: user().authorization }, '/v1/admin/users');
      expect(signedIn.statusCode).toBe(403);
      expect(signedIn.headers['www-authenticate']).toBe('Bearer error="insufficient_scope"');
      const client = await call(
        { authorization: machine('runway/other').authorization },
        `/v1/tasks/${randomUUID()}`,
      );
      expect(client.statusCode).toBe(403);
      expect(client.headers['www-authenticate']).toBe(
        'Bearer error="insufficient_scope", scope="runway/tasks.read"',
      );
    });
  });

  describe('verified-token cache', () => {
    it('still refuses a cached token once it has expired', async () => {
      const caller = token({ username: 'short-lived', sub: randomUUID(), expiresInSeconds: 2 });
      expect((await call({ authorization: `Bearer ${caller}` })).statusCode).toBe(200);
      expect((await call({ authorization: `Bearer ${caller}` })).statusCode).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      expect((await call({ authorization: `Bearer ${caller}` })).statusCode).toBe(401);
    });
  });

  describe('signing keys unavailable', () => {
    let cold: TestApp;
    beforeAll(async () => {
      cold = await createTestApp({
        databaseUrl: t.db.url,
        env: { COGNITO_JWKS_URL: `http://127.0.0.1:${await freePort()}/.well-known/jwks.json` },
      });
    });
    afterAll(() => cold?.close());

    it('answers 503 problem+json with Retry-After (not 401, not 500) while no key could be loaded', async () => {
      const response = await cold.http().get(ME).set('authorization', `Bearer ${user().token}`);
      expect(response.status).toBe(503);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.headers['retry-after']).toBeDefined();
    });

    it('keeps readiness at 503 until the keys are loaded', async () => {
      const response = await cold.http().get('/health/ready');
      expect(response.status).toBe(503);
      expect(response.body.checks.signingKeys).toMatchObject({ status: 'down' });
    });
  });

  describe('issuer overrides for emulators (COGNITO_ISSUER)', () => {
    let emulated: TestApp;
    let jwks: { url: string; close(): Promise<void> };
    const emulator = createSigningKey();
    const issuer = 'http://localhost:9229/local_5eT4a8Kk';
    beforeAll(async () => {
      jwks = await serveJwks(emulator.jwks);
      emulated = await createTestApp({
        databaseUrl: t.db.url,
        env: { COGNITO_JWKS_URL: jwks.url, COGNITO_ISSUER: issuer, COGNITO_CLIENT_ID: 'emulator-client' },
      });
    });
    afterAll(async () => {
      await emulated?.close();
      await jwks?.close();
    });

    const emulatorToken = (overrides: Record<string, unknown> = {}) =>
      signJwt(
        { alg: 'RS256', kid: emulator.kid },
        { ...claims({ username: 'emu', issuer, clientId: 'emulator-client' }), ...overrides },
        emulator.privateKeyPem,
      );

    it('accepts the emulator issuer', async () => {
      expect((await emulated.http().get(ME).set('authorization', `Bearer ${emulatorToken()}`)).status).toBe(
        200,
      );
    });

    it.each([
      ['the Cognito-shaped issuer', { iss: TEST_ISSUER }],
      ['an ID token', { token_use: 'id' }],
      ['another client', { client_id: 'runway-test-client' }],
    ])('keeps the Cognito claim checks: refuses %s', async (_name, overrides) => {
      expect(
        (
          await emulated
            .http()
            .get(ME)
            .set('authorization', `Bearer ${emulatorToken(overrides)}`)
        ).status,
      ).toBe(401);
    });
  });
});

function createSignature(input: string): string {
  return rsaSign('RSA-SHA256', Buffer.from(input), createPrivateKey(issuerPrivateKey())).toString(
    'base64url',
  );
}
