import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { JOURNEY } from '../../tools/deploy/cost.js';
import { runJourney, summarize } from '../../tools/synthetics/journey.js';
import { useTestApp } from '../support/app.js';
import { ROOT } from '../support/process.js';
import { user, type TestCaller } from '../support/tokens.js';

describe('the synthetic journey', () => {
  const t = useTestApp();
  let baseUrl: string;
  beforeAll(async () => {
    await t.app.listen(0, '127.0.0.1');
    baseUrl = await t.app.getUrl();
  });

  it('passes every step against the app and cleans up after itself', async () => {
    const result = await runJourney({ baseUrl, token: user().token });
    expect(result.steps.map((step) => [step.name, step.ok])).toEqual([
      ['live', true],
      ['ready', true],
      ['me', true],
      ['create project', true],
      ['read project', true],
      ['update project', true],
      ['delete project', true],
    ]);
    expect(result.ok).toBe(true);
    expect(summarize(result)).toMatch(/^synthetics: PASS 7\/7 steps in \d+ ms \(live \d+, /);
  });

  it('sends what the cost estimate prices for a run as the canary, nothing left over', async () => {
    const sent: string[] = [];
    const realFetch = globalThis.fetch;
    const counting = vi.spyOn(globalThis, 'fetch').mockImplementation((input, init) => {
      sent.push(new URL(input instanceof Request ? input.url : String(input)).pathname);
      return realFetch(input, init);
    });
    try {
      expect((await runJourney({ baseUrl, token: user({ groups: ['synthetic'] }).token })).ok).toBe(true);
    } finally {
      counting.mockRestore();
    }
    // Health probes are neither traced nor measured (src/telemetry/server-spans.ts).
    const routes = sent.filter((path) => !path.startsWith('/health/'));
    expect({ requests: sent.length, routes: routes.length }).toEqual(JOURNEY);
  });

  it("removes the projects earlier runs left over, and only those: not another run's, not the user's own", async () => {
    const caller = user({ groups: ['synthetic'] });
    const names = [
      `synthetic-${Date.now() - 11 * 60_000}-left`,
      `synthetic-${Date.now()}-run`,
      'synthetic notes',
      'synthetic-2025 roadmap',
    ];
    const create = (who: TestCaller, name: string) =>
      t.http().post('/v1/projects').set('Authorization', who.authorization).send({ name }).expect(201);
    const left = async (who: TestCaller) =>
      (
        (await t.http().get('/v1/projects').set('Authorization', who.authorization).expect(200)).body as {
          items: { name: string }[];
        }
      ).items
        .map(({ name }) => name)
        .sort();
    for (const name of names) await create(caller, name);
    expect((await runJourney({ baseUrl, token: caller.token })).ok).toBe(true);
    expect(await left(caller)).toEqual(names.slice(1).sort());

    // Anyone else's token (the command line takes any): nothing of theirs is removed.
    const someone = user();
    await create(someone, names[0]!);
    expect((await runJourney({ baseUrl, token: someone.token })).ok).toBe(true);
    expect(await left(someone)).toEqual([names[0]]);
  });

  it('waits for readiness while a paused database resumes, within readyWithinMs', async () => {
    let unavailable = 2;
    const server = createServer((request, response) => {
      const status = request.url === '/health/ready' && unavailable-- > 0 ? 503 : 200;
      response.writeHead(status, { 'content-type': 'application/json', 'retry-after': '1' }).end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const stubUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const waited = await runJourney({ baseUrl: stubUrl, token: 'x', readyWithinMs: 5_000 });
      expect(waited.steps[1]).toMatchObject({ name: 'ready', ok: true });
      expect(waited.steps[1]!.ms).toBeGreaterThanOrEqual(1_900);

      unavailable = 5;
      const gaveUp = await runJourney({ baseUrl: stubUrl, token: 'x', readyWithinMs: 1_500 });
      expect(gaveUp.steps.at(-1)).toMatchObject({
        name: 'ready',
        ok: false,
        detail: 'expected 200, got 503',
      });
    } finally {
      server.close();
    }
  });

  it('fails, and says where, with a bad token', async () => {
    const result = await runJourney({ baseUrl, token: 'not.a.token' });
    expect(result.ok).toBe(false);
    expect(result.steps.at(-1)).toMatchObject({ name: 'me', ok: false, detail: 'expected 200, got 401' });
  });

  it('runs from the command line: one summary line, exit 0; exit 1 when the API is unreachable', async () => {
    const run = (args: string[], env: NodeJS.ProcessEnv = process.env) =>
      new Promise<{ code: number | null; out: string }>((resolve) => {
        let out = '';
        const child = spawn(
          process.execPath,
          [join(ROOT, 'dist', 'tools', 'synthetics', 'cli.js'), ...args],
          { stdio: ['ignore', 'pipe', 'pipe'], env },
        );
        child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
        child.once('exit', (code) => resolve({ code, out }));
      });
    const passed = await run(['--base-url', baseUrl, '--token', user().token]);
    expect(passed.code).toBe(0);
    expect(passed.out.trim().split('\n')).toHaveLength(1);
    expect(passed.out).toMatch(/^synthetics: PASS 7\/7/);

    const failed = await run(['--base-url', 'http://127.0.0.1:1', '--token', user().token]);
    expect(failed.code).toBe(1);
    expect(failed.out).toMatch(/^synthetics: FAIL 0\/7/);

    const help = await run(['--help']);
    expect(help).toMatchObject({
      code: 0,
      out: expect.stringMatching(/^usage: npm run synthetics/) as string,
    });
    const unknown = await run(['--base-url', baseUrl, '--tokn', 'x']);
    expect(unknown).toEqual({ code: 1, out: "synthetics: FAIL Unknown option '--tokn'\n" });
    // A secret that is not JSON: the message quotes none of it.
    const secret = await run(['--base-url', baseUrl, '--client-id', 'web', '--credentials-env', 'SECRET'], {
      ...process.env,
      SECRET: 'username=canary password=hunter2',
    });
    expect(secret).toEqual({
      code: 1,
      out: 'synthetics: FAIL canary: the secret must be JSON {"username": "…", "password": "…"}\n',
    });
  });
});
