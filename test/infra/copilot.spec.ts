import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { addonParameters, mergeAddons } from '../../tools/deploy/addons.js';
import { loadConfig, VARIABLES } from '../../src/config/config.js';
import { useTestApp } from '../support/app.js';
import {
  ENVIRONMENT_SCHEMA,
  LOAD_BALANCED_WEB_SERVICE_SCHEMA,
  PIPELINE_SCHEMA,
} from '../support/copilot-schemas.js';
import { ROOT, withImageFiles } from '../support/process.js';
import { injectedOutputs } from './copilot-outputs.js';

const COPILOT = join(ROOT, 'copilot');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const yaml = (path: string) => parse(read(path)) as Record<string, unknown>;

type Variable = string | { from_cfn: string };
interface ServiceManifest {
  name: string;
  image: { depends_on?: Record<string, string> };
  http: { healthcheck: { path: string; grace_period: string }; deregistration_delay: string };
  cpu: number;
  memory: number;
  count: { range: string };
  variables: Record<string, Variable>;
  secrets: Record<string, Variable>;
  taskdef_overrides: { path: string; value: unknown }[];
  network: { vpc: { security_groups: { from_cfn: string }[] } };
  sidecars: Record<string, { variables: Record<string, string> }>;
  deployment: { rollback_alarms: string[] };
  environments: Record<string, Partial<ServiceManifest>>;
}
interface PipelineManifest {
  stages: {
    name: string;
    requires_approval?: boolean;
    deployments: Record<string, unknown>;
    pre_deployments?: Record<string, { buildspec: string }>;
    post_deployments?: Record<string, { buildspec: string }>;
  }[];
  build: { buildspec: string };
}

const API_MANIFEST = 'copilot/api/manifest.yml';
const PIPELINE_MANIFEST = 'copilot/pipelines/runway-main/manifest.yml';
const ENVIRONMENTS = readdirSync(join(COPILOT, 'environments'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && entry.name !== 'addons')
  .map((entry) => entry.name);

const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
const validators = {
  service: ajv.compile(LOAD_BALANCED_WEB_SERVICE_SCHEMA),
  environment: ajv.compile(ENVIRONMENT_SCHEMA),
  pipeline: ajv.compile(PIPELINE_SCHEMA),
};
function schemaErrors(kind: keyof typeof validators, manifest: unknown): string[] {
  const validate = validators[kind];
  return validate(manifest)
    ? []
    : (validate.errors ?? []).map((error) => `${error.instancePath} ${error.message ?? ''}`);
}

/** The manifest as Copilot deploys it to one environment: the override merged in, `${COPILOT_*}` substituted. */
function serviceFor(env: string): ServiceManifest {
  const text = read(API_MANIFEST)
    .replaceAll('${COPILOT_APPLICATION_NAME}', 'runway')
    .replaceAll('${COPILOT_ENVIRONMENT_NAME}', env);
  const manifest = parse(text) as ServiceManifest;
  const override = manifest.environments[env] ?? {};
  return {
    ...manifest,
    ...override,
    variables: { ...manifest.variables, ...override.variables },
    secrets: { ...manifest.secrets, ...override.secrets },
  };
}

/** Export names of every addon output, as CloudFormation will create them for this environment. */
function exportsFor(env: string): Set<string> {
  const names = new Set<string>();
  for (const folder of ['environments', 'api']) {
    const outputs = mergeAddons(join(COPILOT, folder, 'addons')).Outputs ?? {};
    for (const output of Object.values(outputs)) {
      const name = (output.Export?.Name as { 'Fn::Sub'?: string } | undefined)?.['Fn::Sub'];
      if (name) names.add(name.replace('${App}', 'runway').replace('${Env}', env).replace('${Name}', 'api'));
    }
  }
  return names;
}

/** Fargate's valid CPU units → memory (MiB) combinations. */
function validFargateMemory(cpu: number): number[] {
  const range = (from: number, to: number, step: number) =>
    Array.from({ length: (to - from) / step + 1 }, (_, index) => from + index * step);
  const table: Record<number, number[]> = {
    256: [512, 1024, 2048],
    512: range(1024, 4096, 1024),
    1024: range(2048, 8192, 1024),
    2048: range(4096, 16384, 1024),
    4096: range(8192, 30720, 1024),
    8192: range(16384, 61440, 4096),
    16384: range(32768, 122880, 8192),
  };
  return table[cpu] ?? [];
}

const seconds = (duration: string) => Number(/^(\d+)s$/.exec(duration)?.[1] ?? NaN);

describe('Copilot manifests match strict schemas', () => {
  it('copilot/.workspace names the application', () => {
    expect(yaml('copilot/.workspace')).toEqual({ application: 'runway' });
  });

  it('the api service manifest', () => {
    expect(schemaErrors('service', yaml(API_MANIFEST))).toEqual([]);
  });

  it.each(ENVIRONMENTS)('the %s environment manifest', (env) => {
    expect(ENVIRONMENTS).toEqual(expect.arrayContaining(['test', 'prod']));
    expect(schemaErrors('environment', yaml(`copilot/environments/${env}/manifest.yml`))).toEqual([]);
  });

  it('the pipeline manifest', () => {
    expect(schemaErrors('pipeline', yaml(PIPELINE_MANIFEST))).toEqual([]);
  });

  describe('a broken manifest is caught', () => {
    // Each case reaches into the parsed YAML at a path of its own.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    type Yaml = any;
    const edit = (path: string, change: (manifest: Record<string, Yaml>) => void) => {
      const manifest = yaml(path) as Record<string, Yaml>;
      change(manifest);
      return manifest;
    };
    it.each<[string, keyof typeof validators, string, (manifest: Record<string, Yaml>) => void]>([
      ['a misspelt deployment key', 'service', API_MANIFEST, (m) => (m.deployment.rollback_alarm = [])],
      ['a duration without a unit', 'service', API_MANIFEST, (m) => (m.http.deregistration_delay = 20)],
      ['a log retention CloudWatch refuses', 'service', API_MANIFEST, (m) => (m.logging.retention = 45)],
      ['a non-string variable', 'service', API_MANIFEST, (m) => (m.variables.MIGRATE_ON_START = false)],
      ['an unknown top-level key', 'service', API_MANIFEST, (m) => (m.healthcheck = '/health/live')],
      [
        '`require_approval` (the key is requires_approval)',
        'pipeline',
        PIPELINE_MANIFEST,
        (m) => (m.stages[1].require_approval = true),
      ],
      ['a quoted version', 'pipeline', PIPELINE_MANIFEST, (m) => (m.version = '1')],
      [
        'a misspelt observability key',
        'environment',
        'copilot/environments/test/manifest.yml',
        (m) => (m.observability = { container_insight: true }),
      ],
    ])('%s', (_, kind, path, change) => {
      expect(schemaErrors(kind, edit(path, change))).not.toEqual([]);
    });
  });
});

describe('Copilot manifests agree with the app and the addons', () => {
  const t = useTestApp();
  const pipeline = yaml(PIPELINE_MANIFEST) as unknown as PipelineManifest;

  it('pipeline stages are the environments, in order, with an approval before prod', () => {
    expect(pipeline.stages.map((stage) => stage.name)).toEqual(['test', 'prod']);
    expect(new Set(pipeline.stages.map((stage) => stage.name))).toEqual(new Set(ENVIRONMENTS));
    expect(pipeline.stages.find((stage) => stage.name === 'prod')?.requires_approval).toBe(true);
    for (const stage of pipeline.stages) {
      expect(Object.keys(stage.deployments)).toEqual(['api']);
      expect(Object.keys(stage.pre_deployments ?? {})).toContain('migrate');
    }
  });

  it('every buildspec the pipeline names exists, and what they run exists in the built image', () => {
    const buildspecs = [
      pipeline.build.buildspec,
      ...pipeline.stages.flatMap((stage) =>
        [...Object.values(stage.pre_deployments ?? {}), ...Object.values(stage.post_deployments ?? {})].map(
          (action) => action.buildspec,
        ),
      ),
    ];
    for (const buildspec of buildspecs) expect(existsSync(join(ROOT, buildspec)), buildspec).toBe(true);
    const commands = buildspecs.map(read).join('\n');
    for (const [, built] of commands.matchAll(/node (dist\/[\w/-]+)\.js/g)) {
      expect(existsSync(join(ROOT, `${built!.replace(/^dist\//, '')}.ts`)), built).toBe(true);
    }
    expect(commands).toContain('npm ci');
    expect(commands).toContain('npm test');
    expect(commands).toMatch(/--follow/);
  });

  it.each(['test', 'prod'])(
    '%s: the migration task connects as the service does, and the container checks the port it serves',
    (env) => {
      const service = serviceFor(env);
      const migrate = read('copilot/pipelines/runway-main/buildspecs/migrate.yml');
      const variables = Object.fromEntries(
        /--env-vars (\S+)/
          .exec(migrate)![1]!
          .split(',')
          .map((pair) => pair.split('=')),
      );
      for (const name of ['NODE_ENV', 'DB_SSL_MODE', 'DB_SSL_CA_FILE'])
        expect(variables[name], name).toBe(service.variables[name]);
      const image = (yaml(API_MANIFEST) as { image: { port: number; healthcheck: { command: string[] } } })
        .image;
      expect(image.healthcheck.command.join(' ')).toContain(`127.0.0.1:${image.port}/health/live`);
      expect(service.variables.PORT ?? String(image.port)).toBe(String(image.port));
    },
  );

  it('keeps each one-off task up long enough for copilot to see it running (it looks every 6 s)', () => {
    for (const name of ['migrate', 'synthetics']) {
      const command = /--command "([^"]*(?:"[^"]*"[^"]*)*)" \\/.exec(
        read(`copilot/pipelines/runway-main/buildspecs/${name}.yml`),
      )?.[1];
      expect(Number(/--min-runtime-seconds (\d+)/.exec(command ?? '')?.[1]), name).toBeGreaterThanOrEqual(12);
    }
  });

  it('packages no image of a build whose tests failed (CodeBuild runs post_build after a failed build)', () => {
    const spec = yaml(pipeline.build.buildspec) as { phases: { post_build: { commands: string[] } } };
    expect(spec.phases.post_build.commands[0]).toContain('CODEBUILD_BUILD_SUCCEEDING');
  });

  it('the exports the buildspecs read are created by the addons', () => {
    const commands = ['migrate', 'synthetics']
      .map((name) => read(`copilot/pipelines/runway-main/buildspecs/${name}.yml`))
      .join('\n');
    const used = [...commands.matchAll(/export_value "\$prefix-([\w-]+)"/g)].map((match) => match[1]!);
    expect(used.length).toBeGreaterThan(0);
    for (const name of used) {
      if (name === 'PublicLoadBalancerDNS') continue; // exported by Copilot's environment stack itself
      expect(exportsFor('test'), name).toContain(`runway-test-${name}`);
    }
  });

  it.each(['test', 'prod'])(
    '%s: a valid Fargate size, consistent drain timings, a public liveness path',
    async (env) => {
      const service = serviceFor(env);
      expect(validFargateMemory(service.cpu)).toContain(service.memory);

      const stopTimeout = service.taskdef_overrides.find(
        (rule) => rule.path === 'ContainerDefinitions[0].StopTimeout',
      )?.value as number;
      expect(stopTimeout).toBeLessThanOrEqual(120); // Fargate's maximum
      const shutdownMs = Number(service.variables.SHUTDOWN_TIMEOUT_MS);
      expect(shutdownMs).toBeLessThan(stopTimeout * 1000);
      expect(seconds(service.http.deregistration_delay)).toBeLessThanOrEqual(stopTimeout);
      expect(seconds(service.http.healthcheck.grace_period)).toBeGreaterThanOrEqual(30);

      const [min, max] = service.count.range.split('-').map(Number);
      expect(min).toBeGreaterThanOrEqual(env === 'prod' ? 2 : 1);
      expect(max).toBeGreaterThanOrEqual(min!);

      const response = await t.http().get(service.http.healthcheck.path);
      expect(response.status).toBe(200);
    },
  );

  it.each(['test', 'prod'])(
    '%s: the task holds the app and its memory-capped collector; test runs the smallest Fargate task',
    (env) => {
      const service = serviceFor(env);
      expect([service.cpu, service.memory]).toEqual(env === 'test' ? [256, 512] : [512, 1024]);
      // Copilot puts the sidecars right after the app's container unless FireLens or its own collector come first.
      expect(Object.keys(service.sidecars)).toEqual(['otel-collector']);
      // Stopped after the app (ECS stops in reverse dependency order), so the app's last export reaches it.
      expect(service.image.depends_on).toEqual({ 'otel-collector': 'start' });
      expect(service).not.toHaveProperty('observability');
      expect((service as unknown as { logging: object }).logging).not.toHaveProperty('destination');
      const override = (path: string) => service.taskdef_overrides.find((rule) => rule.path === path)?.value;
      const limit = override('ContainerDefinitions[1].Memory') as number;
      expect(override('ContainerDefinitions[1].RestartPolicy')).toMatchObject({ Enabled: true });
      expect(APP_RSS_MIB + limit + HEADROOM_MIB).toBeLessThanOrEqual(service.memory);
      // The collector keeps itself below its limit: the Go runtime's soft limit, then refusing data.
      const collector = service.sidecars['otel-collector']!.variables;
      const goLimit = Number(/^(\d+)MiB$/.exec(collector.GOMEMLIMIT ?? '')?.[1]);
      expect(goLimit).toBeLessThan(limit);
      const config = parse(collector.AOT_CONFIG_CONTENT!) as {
        processors: { memory_limiter?: { limit_mib: number; spike_limit_mib: number } };
        service: { pipelines: Record<string, { processors: string[] }> };
      };
      expect(config.processors.memory_limiter!.limit_mib).toBeLessThanOrEqual(goLimit);
      for (const pipeline of Object.values(config.service.pipelines)) {
        expect(pipeline.processors[0]).toBe('memory_limiter');
      }
    },
  );

  it.each(['test', 'prod'])(
    '%s: every variable and secret is known to the config, and the config is complete',
    (env) => {
      const service = serviceFor(env);
      const known = new Set<string>(VARIABLES);
      const set = { ...service.variables, ...service.secrets };
      expect(Object.keys(set).filter((name) => !known.has(name))).toEqual([]);

      const exports = exportsFor(env);
      const environment: Record<string, string> = {};
      for (const [name, value] of Object.entries(set)) {
        if (typeof value === 'string') {
          environment[name] = value;
          continue;
        }
        expect(exports, `${name} from ${value.from_cfn}`).toContain(value.from_cfn);
        environment[name] = SAMPLE_VALUES[name] ?? 'unexpected';
      }
      for (const group of service.network.vpc.security_groups) expect(exports).toContain(group.from_cfn);
      // Copilot adds an environment variable per output of the api addons (secrets: their value, here a sample).
      for (const { name, kind } of injectedOutputs(mergeAddons(join(COPILOT, 'api', 'addons')))) {
        if (!name) continue;
        expect(Object.keys(set), `${name} is set by the manifest and by an addon output`).not.toContain(name);
        if (kind === 'secret') environment[name] = SAMPLE_SECRET;
      }
      // The real validation, in production mode: nothing required is missing, nothing is malformed.
      expect(() => loadConfig(withImageFiles(environment))).not.toThrow();
      expect(loadConfig(withImageFiles(environment))).toMatchObject({
        env: 'production',
        database: { migrateOnStart: false },
        telemetry: { tracesEnabled: true, metricsEnabled: true, deploymentEnvironment: env },
      });
    },
  );

  it('rollback alarms are the alarms the api addons create', () => {
    const alarms = mergeAddons(join(COPILOT, 'api', 'addons')).Resources;
    const names = Object.values(alarms)
      .filter((resource) => resource.Type === 'AWS::CloudWatch::Alarm')
      .map((resource) => (resource.Properties?.AlarmName as { 'Fn::Sub'?: string })?.['Fn::Sub']);
    for (const env of ['test', 'prod']) {
      for (const alarm of serviceFor(env).deployment.rollback_alarms) {
        expect(
          names.map((name) =>
            name?.replace('${App}', 'runway').replace('${Env}', env).replace('${Name}', 'api'),
          ),
        ).toContain(alarm);
      }
    }
  });

  it('the collector sidecar sends every metric the app records to CloudWatch, with bounded dimensions', () => {
    const collector = parse(serviceFor('test').sidecars['otel-collector']!.variables.AOT_CONFIG_CONTENT!) as {
      exporters: {
        awsemf: { log_group_name: string; metric_declarations: { metric_name_selectors: string[] }[] };
      };
      service: { pipelines: Record<string, { exporters: string[] }> };
    };
    const selectors = collector.exporters.awsemf.metric_declarations.flatMap((declaration) =>
      declaration.metric_name_selectors.map((selector) => new RegExp(selector)),
    );
    for (const metric of APP_METRICS) {
      expect(
        selectors.some((selector) => selector.test(metric)),
        metric,
      ).toBe(true);
    }
    expect(collector.exporters.awsemf.log_group_name).toBe('/runway/test/metrics');
    expect(collector.service.pipelines.traces!.exporters).toEqual(['awsxray']);
    expect(collector.service.pipelines.metrics!.exporters).toEqual(['awsemf']);
  });

  it('addons.parameters.yml passes only parameters the merged templates declare', () => {
    for (const folder of ['environments', 'api']) {
      const dir = join(COPILOT, folder, 'addons');
      const declared = Object.keys(mergeAddons(dir).Parameters ?? {});
      expect(Object.keys(addonParameters(dir)).filter((name) => !declared.includes(name))).toEqual([]);
    }
  });
});

/** The app's resident memory under load with tracing (bench/README.md), and what the task keeps spare above both. */
const APP_RSS_MIB = 256;
const HEADROOM_MIB = 64;

/** A value of the secrets the api addons generate (64 characters, no punctuation). */
const SAMPLE_SECRET = 'x'.repeat(64);

/** Stand-ins for values CloudFormation fills in at deploy time, shaped like the real ones. */
const SAMPLE_VALUES: Record<string, string> = {
  COGNITO_USER_POOL_ID: 'eu-west-1_AbCdEf123',
  COGNITO_CLIENT_ID: '4example1webclient,5example2machine,6example3canary',
  COGNITO_DOMAIN: 'runway-prod-1a2b3c.auth.eu-west-1.amazoncognito.com',
  COGNITO_WEB_CLIENT_ID: '4example1webclient',
  DB_SECRET: JSON.stringify({
    username: 'runway',
    password: 'generated',
    host: 'runway-test.cluster-abc.eu-west-1.rds.amazonaws.com',
    port: 5432,
    dbname: 'runway',
    engine: 'postgres',
    dbClusterIdentifier: 'runway-test',
  }),
};

/** The metrics the app records (docs/observability.md) that dashboards and alarms rely on. */
const APP_METRICS = [
  'http.server.request.duration',
  'db.client.connection.count',
  'db.client.connection.wait_time',
  'process.memory.usage',
  'nodejs.eventloop.delay.p99',
  'runway.users.provisioned',
  'runway.projects.created',
];
