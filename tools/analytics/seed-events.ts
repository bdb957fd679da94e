/**
 * `npm run seed:events -- [--users 10000] [--events 1000000] [--days 180] [--seed 1] [--end <instant>] [--replace]`:
 * fills the database at DATABASE_URL (else the `npm run dev` database) with users and their analytics events over
 * the `--days` days up to now (or --end), by COPY, then rebuilds the rollups with the app's own
 * RollupsRepository.rebuildFromEvents and prints what the tables take on disk. The same options write the same
 * rows, shifted in time unless --end is given too. bench/README.md shows what it measured.
 */
import { parseArgs } from 'node:util';
import { RollupsRepository } from '../../src/analytics/rollups.repository.js';
import { ConfigError, loadDatabaseConfig } from '../../src/config/config.js';
import { ENVIRONMENT } from '../../src/config/environment.js';
import { createMigrationDataSource } from '../../src/database/data-source.js';
import { Database, raw, sql } from '../../src/database/database.js';
import { runMigrations } from '../../src/database/migrator.js';
import { devDatabase } from '../dev/dev-database.js';
import { runTool } from '../dev/run-tool.js';
import { BulkLoader, SEEDED_SUB_PREFIX } from './bulk-load.js';
import { createMonths } from './months.js';
import { planPopulation } from './population.js';
import { Random } from './random.js';
import { printSizes } from './report.js';
import { ANALYTICS_TABLES, analyticsSizes } from './sizes.js';

const say = (line: string) => process.stdout.write(`${line}\n`);
const count = (n: number) => Math.round(n).toLocaleString('en-US');
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

interface Options {
  users: number;
  events: number;
  days: number;
  seed: number;
  /** The last instant of the period, in ms: now unless --end. */
  end: number;
  replace: boolean;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      users: { type: 'string', default: '10000' },
      events: { type: 'string', default: '1000000' },
      days: { type: 'string', default: '180' },
      seed: { type: 'string', default: '1' },
      end: { type: 'string' },
      replace: { type: 'boolean', default: false },
    },
  });
  const end = values.end === undefined ? Date.now() : Date.parse(values.end);
  if (Number.isNaN(end) || end > Date.now()) {
    throw new RangeError('--end must be an ISO 8601 instant in the past, such as 2026-11-29T00:00:00Z');
  }
  const integer = (name: 'users' | 'events' | 'days' | 'seed', min: number, max: number) => {
    const value = Number(values[name]);
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new RangeError(`--${name} must be an integer from ${min} to ${count(max)}`);
    }
    return value;
  };
  return {
    users: integer('users', 1, 10_000_000),
    events: integer('events', 1, 2_000_000_000),
    days: integer('days', 1, 3650),
    seed: integer('seed', 0, 2 ** 32 - 1),
    end: Math.floor(end / 1000) * 1000,
    replace: values.replace,
  };
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  const zone = ENVIRONMENT.ANALYTICS_TIMEZONE.safeParse(process.env.ANALYTICS_TIMEZONE?.trim() || undefined);
  if (!zone.success) {
    throw new ConfigError([{ variable: 'ANALYTICS_TIMEZONE', problem: zone.error.issues[0]!.message }]);
  }
  const timeZone = zone.data;
  const database = await devDatabase(say);
  try {
    const config = loadDatabaseConfig({
      ...process.env,
      DATABASE_URL: database.url,
      NODE_ENV: 'development',
    });
    const dataSource = await createMigrationDataSource(config).initialize();
    try {
      await runMigrations(dataSource);
      const db = new Database(dataSource);
      if (!(await makeRoom(db, options.replace))) return 1;
      const loader = await BulkLoader.open(config);
      try {
        await seed(db, loader, options, timeZone);
      } finally {
        await loader.close();
      }
      return 0;
    } finally {
      await dataSource.destroy();
    }
  } finally {
    await database.release();
  }
}

/** False, with a sentence, when an earlier seed is there and --replace was not given. */
async function makeRoom(db: Database, replace: boolean): Promise<boolean> {
  const seededUsers = sql`cognito_sub LIKE ${`${SEEDED_SUB_PREFIX}%`}`;
  if (!replace) {
    if (!(await db.row(sql`SELECT FROM users WHERE ${seededUsers} LIMIT 1`))) return true;
    say('This database holds an earlier seed: run again with --replace to empty the analytics tables first.');
    return false;
  }
  say('Emptying the analytics tables and removing the users of earlier seeds…');
  await db.rows(sql`TRUNCATE ${raw(ANALYTICS_TABLES.join(', '))}`);
  await db.rows(sql`DELETE FROM users WHERE ${seededUsers}`);
  return true;
}

async function seed(db: Database, loader: BulkLoader, options: Options, timeZone: string): Promise<void> {
  const started = performance.now();
  const random = new Random(options.seed);
  const { end } = options;
  const population = planPopulation({ ...options, random });
  say(
    `Seed ${options.seed}: ${count(options.users)} users, ${count(options.events)} events over ${options.days} days ` +
      `(${count(population.activeUser.length)} user-days), planned in ${seconds(performance.now() - started)}`,
  );
  const created = await createMonths(db, new Date(population.start), new Date(end));
  if (created.length) say(`Created partitions ${created.join(', ')}`);

  const copyStarted = performance.now();
  await loader.users(population, SEEDED_SUB_PREFIX);
  let reported = 0;
  const copied = await loader.events(population, end, random, (copied, day) => {
    if (copied - reported < options.events / 10) return;
    reported = copied;
    const rate = copied / ((performance.now() - copyStarted) / 1000);
    say(`  ${count(copied)} events, day ${day + 1}/${options.days}, ${count(rate)} rows/s`);
  });
  const copyMs = performance.now() - copyStarted;
  say(`Copied ${count(copied)} events in ${seconds(copyMs)}: ${count(copied / (copyMs / 1000))} rows/s`);

  const rebuildStarted = performance.now();
  await new RollupsRepository(db).rebuildFromEvents(timeZone);
  const rebuildMs = performance.now() - rebuildStarted;
  say(`Rebuilt the rollups (${timeZone}) in ${seconds(rebuildMs)}`);
  const vacuumStarted = performance.now();
  // What autovacuum does soon after such a load: statistics for the planner, the visibility map for index-only scans.
  await db.rows(sql`VACUUM (ANALYZE) users, ${raw(ANALYTICS_TABLES.join(', '))}`);
  say(`VACUUM (ANALYZE) in ${seconds(performance.now() - vacuumStarted)}`);
  say(`Total ${seconds(performance.now() - started)}\n`);
  printSizes(await analyticsSizes(db), say);
}

runTool('seed:events', main);
