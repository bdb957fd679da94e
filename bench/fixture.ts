/**
 * What every target needs around it: a migrated database with one user and one project, a local token issuer
 * (the real guard verifies a real RS256 token against its JWKS) and an OTLP sink for the tracing variant.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadDatabaseConfig } from '../src/config/config.js';
import { createMigrationDataSource } from '../src/database/data-source.js';
import { runMigrations } from '../src/database/migrator.js';
import { createSigningKey, mintAccessToken, serveJwks } from '../tools/dev/dev-issuer.js';

export const BENCH_POOL = 'eu-west-1_RunwayBench';
export const BENCH_CLIENT_ID = 'runway-bench';
const SENDERS = 50;

export interface BenchUser {
  sub: string;
  username: string;
  id: string;
  projectId: string;
}

export interface Fixture {
  databaseUrl: string;
  user: BenchUser;
  /** A bearer token for `user`, the same on every request, as a client reuses its token until it expires. */
  token: string;
  /** Further users, each with a bearer token: many clients sending at once. */
  senders: { id: string; token: string }[];
  jwksUrl: string;
  /** An OTLP/HTTP endpoint that discards what it gets. */
  otlpSinkUrl: string;
  close(): Promise<void>;
}

export async function prepareFixture(databaseUrl: string): Promise<Fixture> {
  const { user, senders: senderUsers } = await prepareDatabase(databaseUrl);
  const key = createSigningKey();
  const jwks = await serveJwks(key.jwks);
  const sink = await startDiscardingCollector();
  const token = mintAccessToken(key, {
    username: user.username,
    sub: user.sub,
    clientId: BENCH_CLIENT_ID,
    issuer: `https://cognito-idp.eu-west-1.amazonaws.com/${BENCH_POOL}`,
  });
  const senders = senderUsers.map((sender) => ({
    id: sender.id,
    token: mintAccessToken(key, {
      username: sender.username,
      sub: sender.sub,
      clientId: BENCH_CLIENT_ID,
      issuer: `https://cognito-idp.eu-west-1.amazonaws.com/${BENCH_POOL}`,
    }),
  }));
  return {
    databaseUrl,
    user,
    token,
    senders,
    jwksUrl: jwks.url,
    otlpSinkUrl: sink.url,
    close: async () => {
      await jwks.close();
      await sink.close();
    },
  };
}

/** Migrates the benchmark database and creates the user and the project every target reads, and the senders. */
async function prepareDatabase(
  url: string,
): Promise<{ user: BenchUser; senders: Omit<BenchUser, 'projectId'>[] }> {
  const dataSource = await createMigrationDataSource(
    loadDatabaseConfig({ DATABASE_URL: url, NODE_ENV: 'test' }),
  ).initialize();
  try {
    await runMigrations(dataSource);
    const user = { sub: randomUUID(), username: 'bench-user', id: randomUUID(), projectId: randomUUID() };
    await dataSource.query('INSERT INTO users (id, cognito_sub, username) VALUES ($1, $2, $3)', [
      user.id,
      user.sub,
      user.username,
    ]);
    await dataSource.query("INSERT INTO projects (id, owner_id, name) VALUES ($1, $2, 'benchmark')", [
      user.projectId,
      user.id,
    ]);
    const senders = Array.from({ length: SENDERS }, (_, index) => ({
      sub: randomUUID(),
      username: `bench-sender-${index + 1}`,
      id: randomUUID(),
    }));
    await dataSource.query(
      'INSERT INTO users (id, cognito_sub, username) SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[])',
      [senders.map(({ id }) => id), senders.map(({ sub }) => sub), senders.map(({ username }) => username)],
    );
    return { user, senders };
  } finally {
    await dataSource.destroy();
  }
}

async function startDiscardingCollector(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
