import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig, VARIABLES } from '../../src/config/config.js';
import { ROOT } from '../support/process.js';
import { imageNodeFlags } from '../../tools/deploy/dockerfile.js';

const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
/** Instructions with their continuation lines joined, comments dropped. */
const instructions = dockerfile
  .replace(/\\\n\s*/g, ' ')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'));
const finalStage = instructions.slice(instructions.findLastIndex((line) => line.startsWith('FROM ')));

const KNOWN_VARIABLES = new Set<string>(VARIABLES);

describe('Dockerfile', () => {
  it('builds in stages from a Node 24 slim base pinned to an exact version', () => {
    const image = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1];
    expect(image).toMatch(/^public\.ecr\.aws\/docker\/library\/node:24\.\d+\.\d+-[a-z]+-slim$/);
    expect(instructions.filter((line) => line.startsWith('FROM ')).length).toBeGreaterThanOrEqual(2);
  });

  it("pulls nothing from Docker Hub: no `# syntax` frontend image (the engine's own frontend builds it)", () => {
    expect(dockerfile).not.toMatch(/^#\s*syntax\s*=/im);
  });

  it('installs production dependencies with npm ci --omit=dev in a stage of their own, and ships only those', () => {
    const stageOf = (line: string) =>
      instructions.slice(0, instructions.indexOf(line) + 1).findLast((l) => l.startsWith('FROM '))!;
    const install = instructions.find((line) => /^RUN npm ci\b.*--omit=dev/.test(line))!;
    expect(install).toBeDefined();
    const stage = / AS (\S+)$/.exec(stageOf(install))?.[1];
    expect(stage).toBeDefined();
    expect(
      instructions.filter((line) => stageOf(line) === stageOf(install) && line.startsWith('RUN ')),
    ).toEqual([install]);
    expect(finalStage).toContain(`COPY --from=${stage} /app/node_modules ./node_modules`);
  });

  it('runs as a non-root user that owns none of the files it runs', () => {
    const user = finalStage.filter((line) => line.startsWith('USER ')).at(-1);
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^USER (root|0)(:|$)/);
    expect(finalStage.filter((line) => /^(COPY|ADD) .*--chown/.test(line))).toEqual([]);
  });

  it('starts node in exec form so it receives SIGTERM as PID 1', () => {
    const cmd = finalStage.filter((line) => line.startsWith('CMD ')).at(-1)!;
    const argv = JSON.parse(cmd.slice(4)) as string[];
    expect(argv[0]).toBe('node');
    expect(argv.at(-1)).toBe('dist/src/main.js');
  });

  it("sizes V8's young generation itself rather than from the task's memory (docs/decisions.md)", () => {
    expect(imageNodeFlags(ROOT)).toContain('--max-semi-space-size=8');
  });

  it("carries Amazon RDS's certificate authorities, readable by its user, where the service's DB_SSL_CA_FILE points", () => {
    const add = finalStage.find((line) => line.includes('truststore.pki.rds.amazonaws.com'));
    expect(add).toMatch(
      /^ADD --chmod=644 https:\/\/truststore\.pki\.rds\.amazonaws\.com\/global\/global-bundle\.pem \S+$/,
    );
    const manifest = parse(readFileSync(join(ROOT, 'copilot', 'api', 'manifest.yml'), 'utf8')) as {
      variables: Record<string, string>;
    };
    expect(manifest.variables).toMatchObject({
      DB_SSL_MODE: 'verify-full',
      DB_SSL_CA_FILE: add!.split(' ').at(-1),
    });
    // ADD --chmod needs BuildKit: every pipeline step that builds the image asks for it.
    for (const buildspec of ['buildspec.yml', 'buildspecs/migrate.yml', 'buildspecs/synthetics.yml']) {
      const file = join(ROOT, 'copilot', 'pipelines', 'runway-main', buildspec);
      const spec = parse(readFileSync(file, 'utf8')) as { env: { variables: Record<string, string> } };
      expect(spec.env.variables.DOCKER_BUILDKIT, buildspec).toBe('1');
    }
  });

  it('exposes the port and checks liveness', () => {
    expect(finalStage).toEqual(expect.arrayContaining(['EXPOSE 3000']));
    expect(finalStage.find((line) => line.startsWith('HEALTHCHECK'))).toContain('/health/live');
  });
});

describe('docker-compose.yml', () => {
  const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as {
    services: Record<
      string,
      { healthcheck?: { test: string[] }; environment?: Record<string, string> } & Record<string, unknown>
    >;
    volumes: Record<string, unknown>;
  };
  const { api, postgres } = compose.services;

  it('runs PostgreSQL 17 with a volume and a healthcheck', () => {
    expect(postgres!.image).toBe('postgres:17');
    expect(postgres!.volumes).toEqual([expect.stringMatching(/^postgres-data:/)]);
    expect(Object.keys(compose.volumes)).toContain('postgres-data');
    expect(postgres!.healthcheck?.test.join(' ')).toContain('pg_isready');
  });

  it('publishes every port on this machine only: the emulator signs tokens with a key anyone has', () => {
    const published = Object.values(compose.services).flatMap((service) => service.ports ?? []);
    expect(published.length).toBeGreaterThan(0);
    for (const port of published) expect(port).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
  });

  it('builds the API from the Dockerfile and waits for a healthy database', () => {
    expect(api!.build).toBe('.');
    expect(api!.depends_on).toMatchObject({ postgres: { condition: 'service_healthy' } });
  });

  it('sends the API traces to Jaeger over OTLP (not metrics: Jaeger takes none) and publishes its UI', () => {
    const { jaeger } = compose.services;
    expect(jaeger!.image).toMatch(/^jaegertracing\/jaeger:2\.\d+\.\d+$/);
    expect(jaeger!.ports).toContain('127.0.0.1:16686:16686');
    expect(api!.depends_on).toHaveProperty('jaeger');
    expect(loadConfig(api!.environment).telemetry).toMatchObject({
      tracesEnabled: true,
      metricsEnabled: false,
    });
    expect(api!.environment!.OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://jaeger:4318');
  });

  it('runs the Cognito emulator at the version the tests run', () => {
    const { devDependencies } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      devDependencies: Record<string, string>;
    };
    expect(compose.services.cognito!.image).toBe(
      `jagregory/cognito-local:${devDependencies['cognito-local']}`,
    );
  });

  it('configures the API only with variables the config schema knows, and valid ones', () => {
    const unknown = Object.keys(api!.environment ?? {}).filter((name) => !KNOWN_VARIABLES.has(name));
    expect(unknown).toEqual([]);
  });
});
