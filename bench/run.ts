/**
 * `npm run bench [-- --compare <git-ref>] [--scenario <substring>]… [--profile]`: Runway against a bare
 * Fastify + pg baseline and the same work in Nest (the framework's floor) on the same embedded PostgreSQL, loopback
 * only, in rounds that alternate the targets.
 * Prints medians over rounds and per-round ratios to the baseline (and to the `--compare` commit).
 * `--queries` instead: the analytics queries on a seeded database (bench/analytics-queries.ts).
 * `--ingest-ceiling` instead: the events scenario's batches stored without HTTP (bench/ingest-ceiling.ts).
 * Environment: BENCH_ROUNDS (default 3), BENCH_DURATION_S (default 5), BENCH_CONNECTIONS (default 50), BENCH_REPEAT
 * (default 10, requests per query a round with --queries).
 * bench/README.md explains the figures.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { EventCatalog } from '../tools/analytics/catalog.js';
import { Random } from '../tools/analytics/random.js';
import { imageNodeFlags } from '../tools/deploy/dockerfile.js';
import { startEmbeddedPostgres } from '../tools/dev/embedded-postgres.js';
import { BENCH_CLIENT_ID, BENCH_POOL, prepareFixture, type Fixture } from './fixture.js';
import { measureQueries } from './analytics-queries.js';
import { measureIngestCeiling, type BatchEvent } from './ingest-ceiling.js';
import { measureParts } from './in-process.js';
import { buildRef, type RefBuild } from './git-ref.js';
import { measure, type Load, type Measurement, type Scenario, type Target } from './measure.js';
import { summariseProfile } from './profile.js';
import { printReport, rotate, type ScenarioResult } from './report.js';

/** dist/ when running: the built scripts of the working tree. */
const DIST = join(import.meta.dirname, '..');
const REPO_ROOT = join(DIST, '..');
const PROFILE_DIR = join(REPO_ROOT, 'bench', 'profiles');

const BASELINE = 'baseline (Fastify + pg)';
const NEST_FLOOR = 'Nest floor (Nest + Fastify + pg)';
const RUNWAY = 'runway';
const RUNWAY_TRACED = 'runway, tracing 100 %';
const RUNWAY_TRACED_XRAY = 'runway, tracing X-Ray default rule';
const RUNWAY_UNSAMPLED = 'runway, tracing, nothing sampled';
const RUNWAY_UNLIMITED = 'runway, rate limits off';

interface Options {
  load: Load;
  rounds: number;
  /** A git ref to build and measure as a further target. */
  compare?: string;
  /** Substrings of scenario names; all scenarios when empty. */
  scenarioFilters: string[];
  profile: boolean;
  /** Measure what single parts cost, in process, instead of the scenarios. */
  inProcess: boolean;
  /** Measure the analytics queries on a seeded database instead of the scenarios. */
  queries: boolean;
  /** Requests per query a round, with `queries`. */
  repeat: number;
  /** Store the events scenario's batches straight into PostgreSQL instead of the scenarios. */
  ingestCeiling: boolean;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      compare: { type: 'string' },
      scenario: { type: 'string', multiple: true },
      profile: { type: 'boolean', default: false },
      'in-process': { type: 'boolean', default: false },
      queries: { type: 'boolean', default: false },
      'ingest-ceiling': { type: 'boolean', default: false },
    },
  });
  return {
    load: {
      durationS: positiveInteger('BENCH_DURATION_S', 5),
      connections: positiveInteger('BENCH_CONNECTIONS', 50),
      memoryMiB: process.env.BENCH_MEMORY_MIB ? positiveInteger('BENCH_MEMORY_MIB', 0) : undefined,
    },
    rounds: positiveInteger('BENCH_ROUNDS', 3),
    compare: values.compare,
    scenarioFilters: (values.scenario ?? []).flatMap((value) => value.split(',')).filter(Boolean),
    profile: values.profile,
    inProcess: values['in-process'],
    queries: values.queries,
    repeat: positiveInteger('BENCH_REPEAT', 10),
    ingestCeiling: values['ingest-ceiling'],
  };
}

function positiveInteger(variable: string, fallback: number): number {
  const value = Number(process.env[variable] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${variable} must be a positive integer`);
  return value;
}

function scenarios({ token, user, senders }: Fixture): Scenario[] {
  const authorization = `Bearer ${token}`;
  let turn = 0;
  return [
    { name: 'GET /health/ready', method: 'GET', path: '/health/ready' },
    { name: 'GET /v1/me (bearer token)', method: 'GET', path: '/v1/me', headers: { authorization } },
    {
      name: 'GET /v1/projects/:id (bearer token)',
      method: 'GET',
      path: `/v1/projects/${user.projectId}`,
      headers: { authorization },
      variants: true,
    },
    {
      name: 'POST /v1/projects (bearer token)',
      method: 'POST',
      path: '/v1/projects',
      // Many users at once, as in production: each project's analytics event is then a write of its own.
      headers: () => ({
        authorization: `Bearer ${senders[turn++ % senders.length]!.token}`,
        'content-type': 'application/json',
      }),
      body: () => JSON.stringify({ name: `bench-${randomUUID()}` }),
    },
    {
      name: `POST /v1/events (${EVENTS_PER_BATCH}-event batches)`,
      method: 'POST',
      path: '/v1/events',
      // Many users at once, as in production: a user's batches are stored one after the other.
      headers: () => ({
        authorization: `Bearer ${senders[turn++ % senders.length]!.token}`,
        'content-type': 'application/json',
      }),
      body: eventBatch,
      items: { perRequest: EVENTS_PER_BATCH, unit: 'events' },
    },
  ];
}

const EVENTS_PER_BATCH = 500;
const catalog = new EventCatalog(new Random(1));
const random = new Random(2);

/** A client's batch: the names and properties `npm run seed:events` writes, new ids (a retry would be duplicates). */
function eventBatch(): string {
  const occurredAt = new Date().toISOString();
  const events = Array.from({ length: EVENTS_PER_BATCH }, () => {
    const name = catalog.everydayName(random);
    const properties = catalog.propertiesJson(name, random);
    return `{"id":"${randomUUID()}","name":"${name}","occurredAt":"${occurredAt}"${properties ? `,"properties":${properties}` : ''}}`;
  });
  return `{"events":[${events.join(',')}]}`;
}

function selectScenarios(all: Scenario[], filters: string[]): Scenario[] {
  if (filters.length === 0) return all;
  const selected = all.filter(({ name }) => filters.some((filter) => name.includes(filter)));
  if (selected.length === 0) {
    throw new Error(
      `no scenario matches ${filters.join(', ')}; scenarios: ${all.map(({ name }) => name).join('; ')}`,
    );
  }
  return selected;
}

interface Targets {
  baseline: Target;
  /** The baseline's work inside Nest: what the framework costs before Runway's own work. */
  nestFloor: Target;
  runway: Target;
  /** Runway with one thing changed, for the scenarios marked `variants`: tracing on, rate limits off. */
  variants: Target[];
  ref?: Target;
}

function targetsFor(scenario: Scenario, { baseline, nestFloor, runway, variants, ref }: Targets): Target[] {
  return [baseline, nestFloor, runway, ...(scenario.variants ? variants : []), ...(ref ? [ref] : [])];
}

function defineTargets(fixture: Fixture, ref: RefBuild | undefined): Targets {
  const common = {
    DATABASE_URL: fixture.databaseUrl,
    DB_POOL_MAX: '10',
    BENCH_SUB: fixture.user.sub,
    BENCH_USER_ID: fixture.user.id,
    BENCH_SENDER_IDS: fixture.senders.map(({ id }) => id).join(','),
  };
  const limits = (perMinute: string) => ({
    RATE_LIMIT_READS_PER_MINUTE: perMinute,
    RATE_LIMIT_WRITES_PER_MINUTE: perMinute,
    RATE_LIMIT_EVENTS_PER_MINUTE: perMinute,
  });
  // NODE_ENV=test: production settings except TLS to the database (the baseline has none either). Rate limits on,
  // as in production, but out of reach of the one benchmark caller.
  const runwayEnv = {
    ...common,
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    // As in production, where the pipeline migrates before deploying (the fixture has migrated this database).
    MIGRATE_ON_START: 'false',
    COGNITO_USER_POOL_ID: BENCH_POOL,
    COGNITO_CLIENT_ID: BENCH_CLIENT_ID,
    COGNITO_JWKS_URL: fixture.jwksUrl,
    ...limits('1000000000'),
  };
  // Every server runs with the node flags of Runway's image, as in production: V8's young generation changes the CPU
  // a request costs, whoever's code it runs.
  const nodeArgs = imageNodeFlags(REPO_ROOT);
  const runway = {
    name: RUNWAY,
    script: join(DIST, 'src', 'main.js'),
    env: runwayEnv,
    nodeArgs,
  };
  const traced = { ...runwayEnv, OTEL_EXPORTER_OTLP_ENDPOINT: fixture.otlpSinkUrl };
  return {
    baseline: { name: BASELINE, script: join(DIST, 'bench', 'baseline.js'), env: common, nodeArgs },
    nestFloor: { name: NEST_FLOOR, script: join(DIST, 'bench', 'nest-floor.js'), env: common, nodeArgs },
    runway,
    variants: [
      // Tracing on, exporting over OTLP to a sink that discards what it gets: every request sampled; the production
      // setting (X-Ray rules, here its default rule since no collector serves rules: 1 request/s + 5 %); none sampled.
      { ...runway, name: RUNWAY_TRACED, env: traced },
      { ...runway, name: RUNWAY_TRACED_XRAY, env: { ...traced, OTEL_TRACES_SAMPLER: 'xray' } },
      { ...runway, name: RUNWAY_UNSAMPLED, env: { ...traced, OTEL_TRACES_SAMPLER: 'always_off' } },
      { ...runway, name: RUNWAY_UNLIMITED, env: { ...runwayEnv, ...limits('0') } },
    ],
    ref: ref && {
      name: `runway@${ref.ref}`,
      script: ref.mainScript,
      env: runwayEnv,
      nodeArgs: existsSync(join(ref.root, 'Dockerfile')) ? imageNodeFlags(ref.root) : [],
    },
  };
}

async function measureScenario(
  scenario: Scenario,
  targets: Target[],
  options: Options,
  databasePid: number,
): Promise<ScenarioResult> {
  const rounds: Map<string, Measurement>[] = [];
  for (let round = 0; round < options.rounds; round++) {
    const measured = new Map<string, Measurement>();
    const lastRound = round === options.rounds - 1;
    for (const target of rotate(targets, round)) {
      const profileName =
        options.profile && lastRound && target.name === RUNWAY ? profileFile(scenario) : undefined;
      const launched = profileName ? withCpuProfile(target, profileName) : target;
      const measurement = await measure(launched, scenario, options.load, databasePid);
      measured.set(target.name, measurement);
      process.stderr.write(
        `${scenario.name}, round ${round + 1}/${options.rounds}: ${target.name} ` +
          `${measurement.requestsPerSecond.toFixed(0)} req/s, ${measurement.cpuMicrosPerRequest.toFixed(0)} µs CPU/req, ` +
          `${measurement.databaseCpuMicrosPerRequest.toFixed(0)} µs PostgreSQL CPU/req\n`,
      );
      if (profileName)
        process.stdout.write(`${summariseProfile(join(PROFILE_DIR, profileName), measurement.loadWindow)}\n`);
    }
    rounds.push(measured);
  }
  return { scenario: scenario.name, items: scenario.items, targets: targets.map(({ name }) => name), rounds };
}

function profileFile(scenario: Scenario): string {
  return `${scenario.name.replace(/\W+/g, '-').replace(/^-|-$/g, '')}.cpuprofile`;
}

function withCpuProfile(target: Target, profileName: string): Target {
  mkdirSync(PROFILE_DIR, { recursive: true });
  return {
    ...target,
    nodeArgs: [
      ...(target.nodeArgs ?? []),
      '--cpu-prof',
      '--cpu-prof-dir',
      PROFILE_DIR,
      '--cpu-prof-name',
      profileName,
    ],
  };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (options.queries) {
    process.exitCode = await measureQueries(options.rounds, options.repeat);
    return;
  }
  const database = await startEmbeddedPostgres({
    dataDir: await mkdtemp(join(tmpdir(), 'runway-bench-pg-')),
    persistent: false,
  });
  let fixture: Fixture | undefined;
  let ref: RefBuild | undefined;
  try {
    await database.createDatabase('runway_bench');
    fixture = await prepareFixture(database.url('runway_bench'));
    if (options.ingestCeiling) {
      await measureIngestCeiling(fixture, {
        rounds: options.rounds,
        durationS: options.load.durationS,
        postgresPid: database.pid,
        nextBatch: () => (JSON.parse(eventBatch()) as { events: BatchEvent[] }).events,
      });
      return;
    }
    if (options.compare) ref = buildRef(options.compare, REPO_ROOT);
    const targets = defineTargets(fixture, ref);
    if (options.inProcess) {
      await measureParts(
        fixture,
        options.rounds,
        [
          targets.runway,
          // The same build in another process: how far apart two processes of the same code land (the noise floor).
          { ...targets.runway, name: `${RUNWAY}, second process` },
          ...targets.variants,
          ...(targets.ref ? [targets.ref] : []),
        ],
        database.pid,
      );
      return;
    }
    const selected = selectScenarios(scenarios(fixture), options.scenarioFilters);
    const results: ScenarioResult[] = [];
    for (const scenario of selected) {
      results.push(await measureScenario(scenario, targetsFor(scenario, targets), options, database.pid));
    }
    printReport(results, {
      load: options.load,
      rounds: options.rounds,
      runway: RUNWAY,
      variants: [
        { target: RUNWAY_TRACED, label: 'Tracing overhead, every request sampled', adds: true },
        { target: RUNWAY_TRACED_XRAY, label: 'Tracing overhead, X-Ray default rule', adds: true },
        { target: RUNWAY_UNSAMPLED, label: 'Tracing overhead, nothing sampled', adds: true },
        { target: RUNWAY_UNLIMITED, label: 'Rate limiter cost', adds: false },
        { target: NEST_FLOOR, label: "Runway's own work over Nest's", adds: false },
      ],
      ref: ref && targets.ref && { target: targets.ref.name, commit: ref.commit },
    });
  } finally {
    ref?.remove();
    await fixture?.close();
    await database.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
