/**
 * What Runway costs a month per environment, worked out from the manifests and addon templates — task size and count,
 * canary schedule, database capacity and auto-pause, which resources each environment has, how many secrets, keys,
 * alarms and dashboards — with the price list and the traffic assumed below. `npm run cost` prints the block of
 * docs/operations.md ("What it costs") that test/infra/cost.spec.ts compares with this computation.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT } from '../root.js';
import { addonParameters, mergeAddons, type Template } from './addons.js';

export const ENVIRONMENTS = ['test', 'prod'] as const;
export type Env = (typeof ENVIRONMENTS)[number];

/** What a founder aims for before the first user, USD a month. */
export const TARGETS: Record<Env, number> = { test: 50, prod: 120 };

export const HOURS_PER_MONTH = 730;

/** us-east-1 on-demand list prices, USD (2025), each with its unit. */
export const PRICES = {
  fargateVcpuHour: 0.04048, // per vCPU-hour, Linux/x86
  fargateGbHour: 0.004445, // per GB-hour
  albHour: 0.0225,
  albLcuHour: 0.008, // per load balancer capacity unit-hour
  publicIpv4Hour: 0.005, // per address-hour
  natGatewayHour: 0.045,
  auroraAcuHour: 0.12, // Aurora Serverless v2, Aurora Standard
  auroraStorageGbMonth: 0.1,
  auroraIoMillion: 0.2,
  backupStorageGbMonth: 0.021, // AWS Backup, Aurora
  wafWebAclMonth: 5,
  wafRuleMonth: 1, // a managed rule group counts as one rule
  wafRequestsMillion: 0.6,
  logsIngestGb: 0.5,
  logsStorageGbMonth: 0.03,
  metricMonth: 0.3, // custom metric (first 10,000)
  alarmMonth: 0.1, // standard resolution
  dashboardMonth: 3,
  canaryRun: 0.0012,
  lambdaGbSecond: 0.0000166667,
  lambdaRequestsMillion: 0.2,
  s3PutThousand: 0.005,
  xrayTracesMillion: 5,
  secretMonth: 0.4,
  secretCallsTenThousand: 0.05,
  kmsKeyMonth: 1,
  hostedZoneMonth: 0.5, // Route 53 private hosted zone
  cloudMapInstanceMonth: 0.1, // registered instance
  natGatewayGb: 0.045,
  codePipelineMonth: 1,
  codeBuildMinute: 0.005, // general1.small
  ecrGbMonth: 0.1,
} as const;
const p = PRICES;

/** What every account gets free each month, for good (not the 12-month offers). Counted once, in prod. */
export const FREE_TIER = {
  metrics: 10,
  alarms: 10,
  dashboards: 3,
  logsGb: 5,
  canaryRuns: 100,
  xrayTraces: 100_000,
  lambdaGbSeconds: 400_000,
  lambdaRequests: 1_000_000,
} as const;

/**
 * Traffic and sizes assumed. Test sees only its canary; a small prod serves about a million requests a month.
 * routeSeries: route × method × status combinations seen (0: the journey's); flowLogsGb: if the VPC logs its flows.
 */
export const ASSUMPTIONS = {
  test: { userRequests: 0, routeSeries: 0, databaseGb: 1, databaseIoMillions: 0.5, flowLogsGb: 0 },
  prod: { userRequests: 1_000_000, routeSeries: 20, databaseGb: 2, databaseIoMillions: 5, flowLogsGb: 0.5 },
} as const satisfies Record<Env, Record<string, number>>;

/** What holds for any environment: how the app, the journey and AWS behave (sources in the comments). */
export const BEHAVIOUR = {
  /** The job runner polls its queues this often while the app runs (WORKER_POLL_SECONDS, src/jobs/job-runner.ts). */
  appQuerySeconds: 2,
  /** How often the app looks whether to sleep, at most (src/database/database-idleness.ts): a quarter of the delay. */
  idleCheckMaxSeconds: 15,
  /** A connection the pool no longer uses closes after this (idleTimeoutMillis, src/database/data-source.ts). */
  poolIdleSeconds: 30,
  /** Aurora's typical resume from a pause; its lowest capacity while awake. */
  resumeSeconds: 15,
  awakeMinAcu: 0.5,
  /** One run of the journey (tools/synthetics/journey.ts) in the canary's function, start-up included. */
  canaryRunSeconds: 10,
  canaryDefaultMemoryMb: 1000,
  canaryObjectsPerRun: 3,
  /** Bytes through the load balancer per request (TLS, headers, JSON both ways), one new connection each. */
  albBytesPerRequest: 10_000,
  /** One log line per request; one EMF event per metric series, task and minute. */
  logBytesPerRequest: 1_000,
  emfBytesPerSeriesMinute: 300,
  /** Container Insights: its metrics per cluster of one service, its performance events per task. */
  containerInsightsMetrics: 35,
  containerInsightsLogGbPerTask: 0.13,
  /** The load balancer has a node with a public address in each of the environment's 2 public subnets. */
  albNodes: 2,
  /** AWS Backup keeps a first full copy, then what changes each day. */
  backupDailyChange: 0.02,
} as const;

type When = 'always' | 'requests' | 'users';
/** The app's metrics (src/) and when they are published: always, once requests come (the canary's), with users. */
export const APP_METRICS: Record<string, When> = {
  'http.server.request.duration': 'requests',
  'db.client.connection.count': 'always',
  'db.client.connection.wait_time': 'requests',
  'process.memory.usage': 'always',
  'nodejs.eventloop.delay.p99': 'always',
  'runway.projects.created': 'requests',
  'runway.users.provisioned': 'users',
  'runway.tasks.created': 'users',
  'runway.tasks.open': 'always',
  'runway.tasks.overdue': 'always',
  'runway.tasks.time_to_decision': 'users',
  'runway.tasks.callbacks_failed': 'users',
  'runway.tasks.emails_failed': 'users',
};

// ---------------------------------------------------------------------------------------------------------------
// What the manifests and templates say, per environment.

export interface EnvironmentSetup {
  task: { vcpu: number; memoryGb: number; count: number; publicIp: boolean };
  containerInsights: boolean;
  flowLogs: boolean;
  logRetentionDays: number;
  /** The share of requests traced, or X-Ray's default rule (`xray`: 1 a second, then 5 %). */
  sampling: number | 'xray';
  metricsExported: boolean;
  metricDeclarations: { dimensions: string[][]; selectors: RegExp[] }[];
  canary?: { intervalSeconds: number; memoryMb: number };
  database: { minAcu: number; autoPauseSeconds?: number; vaultRetentionDays: number; budgetUsd: number };
  /** Seconds between the running app's own queries, when nobody uses it. */
  appQuerySeconds: number;
  /** DB_IDLE_SLEEP_SECONDS: the app stops its own queries this long after the last request; 0: never. */
  idleSleepSeconds: number;
  secrets: number;
  kmsKeys: number;
  /** The addons' alarms and the two of each target-tracking policy Copilot makes. */
  alarms: number;
  dashboards: number;
  wafRules?: number;
}
export type Setup = Record<Env, EnvironmentSetup>;

type Json = Record<string, unknown>;
const NO_VALUE = Symbol('AWS::NoValue');

/** The intrinsics that decide what exists before deployment: parameters, conditions, Fn::If and Fn::FindInMap. */
class Resolver {
  constructor(
    private readonly template: Template,
    private readonly parameters: Json,
  ) {}

  condition(name: string): boolean {
    return this.resolve(this.template.Conditions?.[name]) === true;
  }

  exists(resource: Json): boolean {
    return typeof resource.Condition !== 'string' || this.condition(resource.Condition);
  }

  /** The resources that exist, by type. */
  resources(type: string): Json[] {
    return Object.values(this.template.Resources)
      .filter((resource) => resource.Type === type && this.exists(resource))
      .map((resource) => (this.resolve(resource.Properties) ?? {}) as Json);
  }

  resolve(value: unknown): unknown {
    const result = this.evaluate(value);
    return result === NO_VALUE ? undefined : result;
  }

  private evaluate(value: unknown): unknown {
    if (Array.isArray(value))
      return value.map((item) => this.evaluate(item)).filter((item) => item !== NO_VALUE);
    if (value === null || typeof value !== 'object') return value;
    const [key, argument] = Object.entries(value as Json)[0] ?? [];
    const list = argument as unknown[];
    if (Object.keys(value).length === 1) {
      if (key === 'Ref') return this.ref(argument as string);
      if (key === 'Condition') return this.condition(argument as string);
      if (key === 'Fn::If') return this.evaluate(this.condition(list[0] as string) ? list[1] : list[2]);
      if (key === 'Fn::Equals') {
        const [left, right] = list.map((item) => this.evaluate(item));
        return JSON.stringify(left) === JSON.stringify(right);
      }
      if (key === 'Fn::Not') return this.evaluate(list[0]) !== true;
      if (key === 'Fn::And') return list.every((item) => this.evaluate(item) === true);
      if (key === 'Fn::Or') return list.some((item) => this.evaluate(item) === true);
      if (key === 'Fn::FindInMap') {
        const [map, first, second] = list.map((item) => this.evaluate(item)) as string[];
        const found = (this.template.Mappings as Record<string, Record<string, Json>> | undefined)?.[map!]?.[
          first!
        ]?.[second!];
        if (found === undefined) throw new Error(`Fn::FindInMap: no ${map}.${first}.${second}`);
        return found;
      }
    }
    return Object.fromEntries(
      Object.entries(value as Json)
        .map(([name, item]) => [name, this.evaluate(item)] as const)
        .filter(([, item]) => item !== NO_VALUE),
    );
  }

  private ref(name: string): unknown {
    if (name === 'AWS::NoValue') return NO_VALUE;
    const parameter = this.template.Parameters?.[name];
    if (!parameter) return { Ref: name };
    return name in this.parameters ? this.parameters[name] : parameter.Default;
  }
}

type Manifest = Json & { environments?: Record<string, Json> };
const SCALING_METRICS = ['cpu_percentage', 'memory_percentage', 'requests', 'response_time'];

/** An environment override merged the way Copilot merges it: maps key by key, anything else replaced. */
function merge(base: unknown, override: unknown): unknown {
  const isMap = (value: unknown) => value !== null && typeof value === 'object' && !Array.isArray(value);
  if (!isMap(base) || !isMap(override)) return override === undefined ? base : override;
  const result: Json = { ...(base as Json) };
  for (const [key, value] of Object.entries(override as Json)) result[key] = merge(result[key], value);
  return result;
}

/** `rate(5 minutes)`, `rate(1 hour)` → seconds between runs. */
export function rateSeconds(expression: string): number {
  const match = /^rate\((\d+) (minute|hour|day)s?\)$/.exec(expression);
  if (!match) throw new Error(`unsupported schedule ${expression}: only rate(…) is understood`);
  return Number(match[1]) * { minute: 60, hour: 3600, day: 86_400 }[match[2] as 'minute' | 'hour' | 'day'];
}

/** What a sampler named by OTEL_TRACES_SAMPLER keeps: a share of requests, or what X-Ray's rules say. */
function sampling(sampler: string, argument: string | undefined): number | 'xray' {
  if (/^(parentbased_)?always_on$/.test(sampler)) return 1;
  if (/^(parentbased_)?always_off$/.test(sampler)) return 0;
  if (/^(parentbased_)?traceidratio$/.test(sampler)) return Number(argument ?? 1);
  if (sampler === 'xray') return 'xray';
  throw new Error(`unknown sampler ${sampler}: teach tools/deploy/cost.ts what it keeps`);
}

/** The share of requests X-Ray's default sampling rule keeps (1 a second, then 5 %), at a steady rate per second. */
export function xrayDefaultRuleShare(perSecond: number): number {
  if (perSecond === 0) return 1;
  const reservoir = 1 - Math.exp(-perSecond);
  return (reservoir + 0.05 * (perSecond - reservoir)) / perSecond;
}

const literals = (values: Json) =>
  Object.fromEntries(Object.entries(values).filter(([, value]) => typeof value !== 'object'));

/** `parameters`: values for the environment addons' parameters beyond addons.parameters.yml (`ApiBaseUrl`, …). */
export function readSetup(root = ROOT, parameters: Json = {}): Setup {
  const yaml = (path: string) => parse(readFileSync(join(root, path), 'utf8')) as Manifest;
  const app = String((yaml('copilot/.workspace') as { application: string }).application);
  const service = yaml('copilot/api/manifest.yml');
  const apiFolder = join(root, 'copilot', 'api', 'addons');
  const envFolder = join(root, 'copilot', 'environments', 'addons');
  const [api, environment] = [mergeAddons(apiFolder), mergeAddons(envFolder)];
  const setup = (env: Env): EnvironmentSetup => {
    const manifest = merge(service, service.environments?.[env]) as Json & Record<string, Json>;
    const envManifest = yaml(`copilot/environments/${env}/manifest.yml`) as Record<string, Json | undefined>;
    const apiAddons = new Resolver(api, {
      App: app,
      Env: env,
      Name: service.name,
      ...literals(addonParameters(apiFolder)),
    });
    const envAddons = new Resolver(environment, {
      App: app,
      Env: env,
      ...literals(addonParameters(envFolder)),
      ...parameters,
    });
    const both = (type: string) => [...apiAddons.resources(type), ...envAddons.resources(type)];
    const count = manifest.count as Json;
    const autoscaled = typeof count.range === 'string';
    // Copilot makes a target-tracking policy, with its two alarms, of each scaling metric under count.
    const scalingPolicies = autoscaled ? SCALING_METRICS.filter((key) => key in count).length : 0;
    const variables = manifest.variables as Record<string, string | undefined>;
    const sidecars = manifest.sidecars as Record<string, { variables: Record<string, string> }>;
    const collector = parse(sidecars['otel-collector']!.variables.AOT_CONFIG_CONTENT!) as {
      exporters: {
        awsemf: { metric_declarations: { dimensions: string[][]; metric_name_selectors: string[] }[] };
      };
    };
    const canary = apiAddons.resources('AWS::Synthetics::Canary')[0];
    const cluster = envAddons.resources('AWS::RDS::DBCluster')[0]!;
    const scaling = cluster.ServerlessV2ScalingConfiguration as {
      MinCapacity: number;
      SecondsUntilAutoPause?: number;
    };
    const plan = envAddons.resources('AWS::Backup::BackupPlan')[0]!;
    const budget = envAddons.resources('AWS::Budgets::Budget')[0]!;
    const webAcl = envAddons.resources('AWS::WAFv2::WebACL')[0];
    return {
      task: {
        vcpu: Number(manifest.cpu) / 1024,
        memoryGb: Number(manifest.memory) / 1024,
        count: autoscaled ? Number(String(count.range).split('-')[0]) : Number(count),
        publicIp: (manifest.network as { vpc?: { placement?: string } }).vpc?.placement !== 'private',
      },
      containerInsights: envManifest.observability?.container_insights === true,
      flowLogs: Boolean((envManifest.network?.vpc as Json | undefined)?.flow_logs),
      logRetentionDays: Number((manifest.logging as Json).retention),
      sampling: sampling(
        variables.OTEL_TRACES_SAMPLER ?? 'parentbased_always_on',
        variables.OTEL_TRACES_SAMPLER_ARG,
      ),
      metricsExported: (variables.OTEL_METRICS_EXPORTER ?? 'otlp') !== 'none',
      metricDeclarations: collector.exporters.awsemf.metric_declarations.map((declaration) => ({
        dimensions: declaration.dimensions,
        selectors: declaration.metric_name_selectors.map((selector) => new RegExp(selector)),
      })),
      ...(canary && {
        canary: {
          intervalSeconds: rateSeconds(String((canary.Schedule as Json).Expression)),
          memoryMb: Number((canary.RunConfig as Json).MemoryInMB ?? BEHAVIOUR.canaryDefaultMemoryMb),
        },
      }),
      database: {
        minAcu: scaling.MinCapacity,
        ...(scaling.SecondsUntilAutoPause !== undefined && {
          autoPauseSeconds: scaling.SecondsUntilAutoPause,
        }),
        vaultRetentionDays: Number(
          (plan.BackupPlan as { BackupPlanRule: { Lifecycle: Json }[] }).BackupPlanRule[0]!.Lifecycle
            .DeleteAfterDays,
        ),
        budgetUsd: Number(((budget.Budget as Json).BudgetLimit as Json).Amount),
      },
      appQuerySeconds: BEHAVIOUR.appQuerySeconds,
      idleSleepSeconds: Number(variables.DB_IDLE_SLEEP_SECONDS ?? 0),
      // An EventBridge connection keeps its credentials in a Secrets Manager secret of its own.
      secrets: both('AWS::SecretsManager::Secret').length + both('AWS::Events::Connection').length,
      kmsKeys: both('AWS::KMS::Key').length,
      alarms: both('AWS::CloudWatch::Alarm').length + 2 * scalingPolicies,
      dashboards: both('AWS::CloudWatch::Dashboard').length,
      ...(webAcl && { wafRules: (webAcl.Rules as unknown[]).length }),
    };
  };
  return { test: setup('test'), prod: setup('prod') };
}

/** One run of the journey the canary runs: its requests, and those traced and measured (all but health probes). */
export interface Journey {
  requests: number;
  routes: number;
}

/**
 * What a passing run of tools/synthetics/journey.ts sends as the canary's user with nothing left over: its seven
 * steps and the listing of leftovers. test/process/synthetics.spec.ts counts what a real run sends.
 */
export const JOURNEY: Journey = { requests: 8, routes: 6 };

// ---------------------------------------------------------------------------------------------------------------
// The estimate.

export interface Cell {
  amount: number;
  detail: string;
}
export interface Line {
  key: string;
  name: string;
  price: string;
  cells: Record<Env, Cell>;
  /** What a guardrail or the platform costs whatever the traffic. */
  floor: boolean;
}
/** What each environment uses in a month. */
export interface Usage {
  tasks: number;
  canaryRuns: number;
  requests: number;
  /** Requests a sampler may trace (health probes never are), and the traces kept. */
  traceable: number;
  traces: number;
  metricSeries: number;
  logsGb: number;
  databaseAwakeSecondsPerHour: number;
}
export interface Estimate {
  lines: Line[];
  totals: Record<Env, number>;
  usage: Record<Env, Usage>;
}

export const cents = (amount: number) => Math.round(amount * 100) / 100;
export const usd = (amount: number) => cents(amount).toFixed(2);
export const count = (value: number) => Math.round(value).toLocaleString('en-US');

function usageOf(setup: EnvironmentSetup, env: Env, journey: Journey): Usage {
  const assumed = ASSUMPTIONS[env];
  const tasks = setup.task.count;
  const canaryRuns = setup.canary ? (HOURS_PER_MONTH * 3600) / setup.canary.intervalSeconds : 0;
  const requests = assumed.userRequests + canaryRuns * journey.requests;
  const traceable = assumed.userRequests + canaryRuns * journey.routes;
  const perSecond = requests / (HOURS_PER_MONTH * 3600);
  const traced = setup.sampling === 'xray' ? xrayDefaultRuleShare(perSecond) : setup.sampling;
  const metricSeries = seriesOf(setup, assumed.userRequests > 0, assumed.routeSeries || journey.routes);
  const logsGb =
    (requests * BEHAVIOUR.logBytesPerRequest +
      metricSeries * tasks * HOURS_PER_MONTH * 60 * BEHAVIOUR.emfBytesPerSeriesMinute) /
      1e9 +
    (setup.flowLogs ? assumed.flowLogsGb : 0) +
    (setup.containerInsights ? tasks * BEHAVIOUR.containerInsightsLogGbPerTask : 0);
  return {
    tasks,
    canaryRuns,
    requests,
    traceable,
    traces: traceable * traced,
    metricSeries,
    logsGb,
    databaseAwakeSecondsPerHour: awakeSecondsPerHour(setup, assumed.userRequests > 0),
  };
}

/** The database's awake seconds an hour: all of them, or what each canary run keeps it awake when nothing else does. */
function awakeSecondsPerHour(setup: EnvironmentSetup, users: boolean): number {
  const { minAcu, autoPauseSeconds } = setup.database;
  if (minAcu > 0 || autoPauseSeconds === undefined || users) return 3600;
  if (setup.idleSleepSeconds === 0 && setup.appQuerySeconds < autoPauseSeconds) return 3600;
  if (!setup.canary) return 0;
  const perRun =
    BEHAVIOUR.resumeSeconds + BEHAVIOUR.canaryRunSeconds + appLeavesSeconds(setup) + autoPauseSeconds;
  return Math.min(3600, (perRun * 3600) / setup.canary.intervalSeconds);
}

/** Seconds from the last request until the app holds no connection: its pool's idle timeout, or its sleep, later. */
export function appLeavesSeconds(setup: EnvironmentSetup): number {
  const sleep = setup.idleSleepSeconds;
  const check = Math.min(sleep / 4, BEHAVIOUR.idleCheckMaxSeconds);
  return Math.max(BEHAVIOUR.poolIdleSeconds, sleep > 0 ? sleep + check : 0);
}

/** CloudWatch metrics the collector makes of the app's: one per metric and set of dimension values seen. */
function seriesOf(setup: EnvironmentSetup, users: boolean, routeSeries: number): number {
  if (!setup.metricsExported) return 0;
  const published = { always: true, requests: users || setup.canary !== undefined, users };
  let series = 0;
  for (const [name, when] of Object.entries(APP_METRICS)) {
    if (!published[when]) continue;
    for (const { selectors, dimensions } of setup.metricDeclarations) {
      if (!selectors.some((selector) => selector.test(name))) continue;
      for (const set of dimensions) {
        if (set.length === 0) series += 1;
        else if (set.includes('http.route') && name === 'http.server.request.duration') series += routeSeries;
        else if (set.includes('db.client.connection.state') && name === 'db.client.connection.count')
          series += 2;
      }
    }
  }
  return series;
}

type Compute = (setup: EnvironmentSetup, usage: Usage, env: Env) => [amount: number, detail: string];

/** Prod is billed beyond the account's free allowance, test at list price. */
const beyond = (env: Env, used: number, free: number) => (env === 'prod' ? Math.max(0, used - free) : used);
const free = (env: Env, allowance: number, unit = '') =>
  env === 'prod' ? `, ${count(allowance)}${unit} free` : '';
const H = HOURS_PER_MONTH;

/** The table's lines: key, name, price, whether it is part of the floor, and how each environment's cell is worked out. */
const LINES: [string, string, string, boolean, Compute][] = [
  [
    'fargate',
    'Fargate tasks, x86 (collector included)',
    `${p.fargateVcpuHour}/vCPU-h + ${p.fargateGbHour}/GB-h`,
    true,
    (s, u) => [
      u.tasks * (s.task.vcpu * p.fargateVcpuHour + s.task.memoryGb * p.fargateGbHour) * H,
      `${u.tasks} × ${s.task.vcpu} vCPU + ${s.task.memoryGb} GB`,
    ],
  ],
  [
    'alb',
    'Application Load Balancer',
    `${p.albHour}/h + ${p.albLcuHour}/LCU-h`,
    true,
    (_, u) => {
      // New connections (25 a second) or processed bytes (1 GB an hour), whichever is more.
      const lcu = Math.max(
        u.requests / (H * 3600) / 25,
        (u.requests * BEHAVIOUR.albBytesPerRequest) / 1e9 / H,
      );
      return [(p.albHour + lcu * p.albLcuHour) * H, `≈ ${lcu < 0.001 ? '0' : lcu.toFixed(3)} LCU`];
    },
  ],
  [
    'ipv4',
    'Public IPv4 addresses: ALB nodes + tasks',
    `${p.publicIpv4Hour}/h = ${usd(p.publicIpv4Hour * H)} each`,
    true,
    (s, u) => {
      const addresses = BEHAVIOUR.albNodes + (s.task.publicIp ? u.tasks : 0);
      return [addresses * p.publicIpv4Hour * H, `${BEHAVIOUR.albNodes} + ${s.task.publicIp ? u.tasks : 0}`];
    },
  ],
  [
    'nat',
    'NAT gateway (tasks in public subnets)',
    `${p.natGatewayHour}/h each`,
    false,
    (s) => [s.task.publicIp ? 0 : 2 * p.natGatewayHour * H, s.task.publicIp ? 'none' : '2'],
  ],
  [
    'aurora',
    'Aurora Serverless v2 compute',
    `${p.auroraAcuHour}/ACU-h`,
    true,
    (s, u) => {
      const acu = Math.max(s.database.minAcu, BEHAVIOUR.awakeMinAcu);
      const awake = u.databaseAwakeSecondsPerHour;
      return [
        (awake / 3600) * H * acu * p.auroraAcuHour,
        awake === 3600 ? `${acu} ACU × ${H} h` : `${acu} ACU, ${Math.round(awake)} s an hour`,
      ];
    },
  ],
  [
    'storage',
    'Aurora storage and I/O',
    `${p.auroraStorageGbMonth}/GB-month + ${p.auroraIoMillion}/M I/O`,
    false,
    (_s, _u, env) => {
      const { databaseGb, databaseIoMillions } = ASSUMPTIONS[env];
      return [
        databaseGb * p.auroraStorageGbMonth + databaseIoMillions * p.auroraIoMillion,
        `${databaseGb} GB + ${databaseIoMillions} M I/O`,
      ];
    },
  ],
  [
    'backup',
    'AWS Backup restore points',
    `${p.backupStorageGbMonth}/GB-month`,
    false,
    (s, _u, env) => {
      const days = s.database.vaultRetentionDays;
      const gb = ASSUMPTIONS[env].databaseGb * (1 + days * BEHAVIOUR.backupDailyChange);
      return [gb * p.backupStorageGbMonth, `≈ ${gb.toFixed(1)} GB, ${days} days`];
    },
  ],
  [
    'waf',
    'AWS WAF web ACL',
    `${p.wafWebAclMonth}/ACL + ${p.wafRuleMonth}/rule + ${p.wafRequestsMillion}/M requests`,
    true,
    (s, u) =>
      s.wafRules === undefined
        ? [0, 'none']
        : [
            p.wafWebAclMonth + s.wafRules * p.wafRuleMonth + (u.requests / 1e6) * p.wafRequestsMillion,
            `${s.wafRules} rules`,
          ],
  ],
  [
    'logs',
    'CloudWatch Logs: app, EMF metrics, flow logs, Container Insights',
    `${p.logsIngestGb}/GB + ${p.logsStorageGbMonth}/GB-month`,
    false,
    (s, u, env) => [
      beyond(env, u.logsGb, FREE_TIER.logsGb) * p.logsIngestGb +
        ((u.logsGb * s.logRetentionDays) / 30) * p.logsStorageGbMonth,
      `≈ ${u.logsGb.toFixed(1)} GB${free(env, FREE_TIER.logsGb, ' GB')}`,
    ],
  ],
  [
    'metrics',
    "Custom metrics of the collector's `metric_declarations`",
    `${p.metricMonth}/metric-month`,
    false,
    (_, u, env) => [
      beyond(env, u.metricSeries, FREE_TIER.metrics) * p.metricMonth,
      `≈ ${u.metricSeries}${free(env, FREE_TIER.metrics)}`,
    ],
  ],
  [
    'insights',
    'Container Insights metrics',
    `${p.metricMonth}/metric-month`,
    true,
    (s, u, env) => {
      const metrics = s.containerInsights ? BEHAVIOUR.containerInsightsMetrics : 0;
      // The app's metrics use the free allowance first.
      const left = env === 'prod' ? Math.max(0, FREE_TIER.metrics - u.metricSeries) : 0;
      return [Math.max(0, metrics - left) * p.metricMonth, s.containerInsights ? `≈ ${metrics}` : 'off'];
    },
  ],
  [
    'alarms',
    'Alarms: the service, the canary, target tracking',
    `${p.alarmMonth}/alarm-month`,
    false,
    (s, _u, env) => [
      beyond(env, s.alarms, FREE_TIER.alarms) * p.alarmMonth,
      `${s.alarms}${free(env, FREE_TIER.alarms)}`,
    ],
  ],
  [
    'dashboards',
    'Dashboard `runway-prod-api`',
    `${p.dashboardMonth}/dashboard-month`,
    false,
    (s, _u, env) => [
      beyond(env, s.dashboards, FREE_TIER.dashboards) * p.dashboardMonth,
      `${s.dashboards}${s.dashboards > 0 ? free(env, FREE_TIER.dashboards) : ''}`,
    ],
  ],
  [
    'canary',
    'Synthetics canary runs',
    `${p.canaryRun}/run`,
    true,
    (s, u, env) => [
      beyond(env, u.canaryRuns, FREE_TIER.canaryRuns) * p.canaryRun,
      s.canary
        ? `every ${interval(s.canary.intervalSeconds)}, ${count(u.canaryRuns)}${free(env, FREE_TIER.canaryRuns)}`
        : 'none',
    ],
  ],
  [
    'canaryFunction',
    "Canary's Lambda function and S3 artifacts",
    `${p.lambdaGbSecond}/GB-s + ${p.s3PutThousand}/1,000 PUT`,
    false,
    (s, u, env) => {
      const gbSeconds = ((u.canaryRuns * (s.canary?.memoryMb ?? 0)) / 1024) * BEHAVIOUR.canaryRunSeconds;
      const puts = u.canaryRuns * BEHAVIOUR.canaryObjectsPerRun;
      const lambda =
        beyond(env, gbSeconds, FREE_TIER.lambdaGbSeconds) * p.lambdaGbSecond +
        (beyond(env, u.canaryRuns, FREE_TIER.lambdaRequests) / 1e6) * p.lambdaRequestsMillion;
      return [
        lambda + (puts / 1000) * p.s3PutThousand,
        `≈ ${count(gbSeconds)} GB-s${lambda === 0 ? ' (free)' : ''}, ${count(puts)} PUT`,
      ];
    },
  ],
  [
    'xray',
    'X-Ray traces',
    `${p.xrayTracesMillion}/M traces`,
    false,
    (_, u, env) => [
      (beyond(env, u.traces, FREE_TIER.xrayTraces) / 1e6) * p.xrayTracesMillion,
      `≈ ${count(u.traces)}${free(env, FREE_TIER.xrayTraces)}`,
    ],
  ],
  [
    'secrets',
    'Secrets Manager: database, canary, task link and token keys',
    `${p.secretMonth}/secret-month + ${p.secretCallsTenThousand}/10,000 calls`,
    false,
    (s, u) => [
      // The canary reads its secret on every run.
      s.secrets * p.secretMonth + (u.canaryRuns / 10_000) * p.secretCallsTenThousand,
      `${s.secrets}`,
    ],
  ],
  [
    'kms',
    'KMS key of the alarm topic',
    `${p.kmsKeyMonth}/key-month (up to 3 after two yearly rotations)`,
    false,
    (s) => [s.kmsKeys * p.kmsKeyMonth, `${s.kmsKeys}`],
  ],
  [
    'cloudMap',
    "Cloud Map: Copilot's service discovery zone + tasks",
    `${p.hostedZoneMonth}/zone + ${p.cloudMapInstanceMonth}/instance`,
    false,
    (_, u) => [p.hostedZoneMonth + u.tasks * p.cloudMapInstanceMonth, `1 + ${u.tasks}`],
  ],
  [
    'cognito',
    'Cognito (Essentials plan) and its token trigger (Lambda)',
    '10,000 monthly active users free, then 0.015 each; `MachineClient` in use: about 6.00 + 2.25 per 1,000 tokens',
    false,
    () => [0, ''],
  ],
];

const interval = (seconds: number) => (seconds % 3600 === 0 ? `${seconds / 3600} h` : `${seconds / 60} min`);

export function estimate(setup: Setup, journey = JOURNEY): Estimate {
  const usage = { test: usageOf(setup.test, 'test', journey), prod: usageOf(setup.prod, 'prod', journey) };
  const lines = LINES.map(([key, name, price, floor, compute]): Line => {
    const cell = (env: Env): Cell => {
      const [amount, detail] = compute(setup[env], usage[env], env);
      return { amount: cents(amount), detail };
    };
    return { key, name, price, floor, cells: { test: cell('test'), prod: cell('prod') } };
  });
  const total = (env: Env) => cents(lines.reduce((sum, line) => sum + line.cells[env].amount, 0));
  return { lines, totals: { test: total('test'), prod: total('prod') }, usage };
}
