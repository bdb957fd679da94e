import {
  AdminCreateUserCommand,
  AdminSetUserPasswordCommand,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  InitiateAuthCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createTestApp, type TestApp } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startEmulator, type Emulator } from '../support/cognito-local.js';
import { ROOT } from '../support/process.js';

/**
 * Acceptance against a Cognito emulator (cognito-local, which speaks the Cognito API) on loopback: a token it
 * issued through InitiateAuth is accepted by GET /v1/me, and the same token with one payload byte changed is not.
 */
describe('with a Cognito emulator (cognito-local)', () => {
  let db: TestDatabase;
  let emulator: Emulator;
  let t: TestApp;
  let accessToken: string;
  let signIn: { clientId: string; username: string; password: string };

  beforeAll(async () => {
    db = await createTestDatabase();
    emulator = await startEmulator();
    const { cognito, port } = emulator;
    const pool = (await cognito.send(new CreateUserPoolCommand({ PoolName: 'runway' }))).UserPool!;
    const client = (
      await cognito.send(
        new CreateUserPoolClientCommand({
          UserPoolId: pool.Id,
          ClientName: 'web',
          ExplicitAuthFlows: ['USER_PASSWORD_AUTH'],
        }),
      )
    ).UserPoolClient!;
    const username = 'alice@example.com';
    const password = 'Str0ng#Passw0rd!';
    await cognito.send(
      new AdminCreateUserCommand({
        UserPoolId: pool.Id,
        Username: username,
        TemporaryPassword: 'Temp#Passw0rd1',
        MessageAction: 'SUPPRESS',
      }),
    );
    await cognito.send(
      new AdminSetUserPasswordCommand({
        UserPoolId: pool.Id,
        Username: username,
        Password: password,
        Permanent: true,
      }),
    );
    const auth = await cognito.send(
      new InitiateAuthCommand({
        AuthFlow: 'USER_PASSWORD_AUTH',
        ClientId: client.ClientId,
        AuthParameters: { USERNAME: username, PASSWORD: password },
      }),
    );
    accessToken = auth.AuthenticationResult!.AccessToken!;
    signIn = { clientId: client.ClientId!, username, password };

    t = await createTestApp({
      databaseUrl: db.url,
      env: {
        COGNITO_USER_POOL_ID: pool.Id!,
        COGNITO_CLIENT_ID: client.ClientId!,
        COGNITO_JWKS_URL: `http://127.0.0.1:${port}/${pool.Id}/.well-known/jwks.json`,
        COGNITO_ISSUER: `http://localhost:${port}/${pool.Id}`,
      },
    });
  });

  afterAll(async () => {
    await t?.close();
    await emulator?.stop();
    await db?.drop();
  });

  it('accepts an access token the emulator issued through InitiateAuth', async () => {
    const response = await t.http().get('/v1/me').set('authorization', `Bearer ${accessToken}`);
    expect(response.status).toBe(200);
    expect(response.body.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('the synthetics CLI signs in with credentials from a variable (as the pipeline runs it) and walks the journey', async () => {
    await t.app.listen(0, '127.0.0.1');
    const child = spawn(
      process.execPath,
      [
        join(ROOT, 'dist', 'tools', 'synthetics', 'cli.js'),
        ...['--base-url', await t.app.getUrl(), '--client-id', signIn.clientId],
        ...[
          '--credentials-env',
          'CANARY_CREDENTIALS',
          '--cognito-endpoint',
          `http://127.0.0.1:${emulator.port}/`,
        ],
      ],
      {
        env: {
          PATH: process.env.PATH,
          CANARY_CREDENTIALS: JSON.stringify({ username: signIn.username, password: signIn.password }),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(out).toMatch(/^synthetics: PASS 7\/7/);
    expect(code).toBe(0);
  });

  it('refuses the same token with one payload byte changed', async () => {
    const [header, payload, signature] = accessToken.split('.') as [string, string, string];
    const bytes = Buffer.from(payload, 'base64url');
    bytes[bytes.indexOf('"exp"') + 7]! ^= 0x01; // a digit of exp
    const tampered = `${header}.${bytes.toString('base64url')}.${signature}`;
    const response = await t.http().get('/v1/me').set('authorization', `Bearer ${tampered}`);
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
  });
});

/**
 * The docker-compose stack cannot run here (no Docker engine), so its Cognito seed and the API's COGNITO_* settings
 * from docker-compose.yml are checked with the same emulator: the README's AWS CLI sign-in, done with the SDK.
 */
describe('the docker-compose Cognito seed', () => {
  let db: TestDatabase;
  let emulator: Emulator;
  let t: TestApp;
  let env: Record<string, string>;

  beforeAll(async () => {
    db = await createTestDatabase();
    emulator = await startEmulator(join(ROOT, 'docker', 'cognito-local'));
    const { port } = emulator;
    const compose = parse(await readFile(join(ROOT, 'docker-compose.yml'), 'utf8')) as {
      services: { api: { environment: Record<string, string> } };
    };
    env = Object.fromEntries(
      Object.entries(compose.services.api.environment)
        .filter(([name]) => name.startsWith('COGNITO_'))
        .map(([name, value]) => [name, value.replace(':9229', `:${port}`)]),
    );
    t = await createTestApp({ databaseUrl: db.url, env });
  });

  afterAll(async () => {
    await t?.close();
    await emulator?.stop();
    await db?.drop();
  });

  const signIn = async (username: string) =>
    (
      await emulator.cognito.send(
        new InitiateAuthCommand({
          AuthFlow: 'USER_PASSWORD_AUTH',
          ClientId: env.COGNITO_CLIENT_ID,
          AuthParameters: { USERNAME: username, PASSWORD: 'Runway#Local1' },
        }),
      )
    ).AuthenticationResult!.AccessToken!;

  it('signs alice in, and the API accepts her token', async () => {
    const response = await t
      .http()
      .get('/v1/me')
      .set('authorization', `Bearer ${await signIn('alice@example.com')}`);
    expect(response.status).toBe(200);
    expect(response.body.groups).toEqual([]);
  });

  it('signs the operator in as an admin', async () => {
    const token = await signIn('operator@example.com');
    expect((await t.http().get('/v1/admin/users').set('authorization', `Bearer ${token}`)).status).toBe(200);
  });
});
