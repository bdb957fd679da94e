/**
 * Database scripts (see docs/development.md):
 *   migrate            apply pending migrations (advisory lock) to DATABASE_URL or the dev database
 *   revert             undo the last applied migration (advisory lock)
 *   generate <Name>    write migrations/<epoch-ms>-<Name>.ts from the difference between entities and migrations
 *   check              exit 1 when entities and migrations have drifted apart
 *   reset              delete the dev database (the next `npm run dev` starts from an empty one)
 * generate and check compare against a throwaway embedded PostgreSQL, migrated from scratch.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getMetadataArgsStorage, type DataSource, type DataSourceOptions } from 'typeorm';
import { loadDatabaseConfig } from '../../src/config/config.js';
import { createMigrationDataSource } from '../../src/database/data-source.js';
import { revertLastMigration, runMigrations } from '../../src/database/migrator.js';
import { ROOT } from '../root.js';
import { DEV_DATA_DIR, devDatabase } from './dev-database.js';
import { runningPort, startEmbeddedPostgres } from './embedded-postgres.js';
import { migrationTimestamp } from './migration-timestamp.js';
import { runTool } from './run-tool.js';
import { definitionsOf, differingDefinitions } from './schema-definitions.js';

const MIGRATIONS_DIR = join(ROOT, 'migrations');
const say = (line: string) => process.stdout.write(`${line}\n`);

async function main(command: string | undefined, name: string | undefined): Promise<number> {
  switch (command) {
    case 'migrate':
      return withDevDataSource(async (dataSource) => {
        const applied = await runMigrations(dataSource);
        say(applied.length ? `Applied: ${applied.join(', ')}` : 'Nothing to migrate.');
        return 0;
      });
    case 'revert':
      return withDevDataSource(async (dataSource) => {
        const reverted = await revertLastMigration(dataSource);
        say(reverted ? `Reverted ${reverted}.` : 'Nothing to revert: no migration is applied.');
        return 0;
      });
    case 'generate':
      if (!name || !/^[A-Z][A-Za-z0-9]*$/.test(name)) {
        say('Usage: npm run db:generate -- <PascalCaseName>');
        return 2;
      }
      return withScratchDataSource(async (dataSource) => {
        const { up, down } = await schemaDiff(dataSource);
        if (up.length === 0) {
          say('Entities and migrations agree: nothing to generate.');
          return 0;
        }
        const file = await writeMigration(name, up, down);
        say(`Wrote ${file}. Review it before committing.`);
        return 0;
      });
    case 'check':
      return withScratchDataSource(async (dataSource, synchronized) => {
        const { up } = await schemaDiff(dataSource);
        if (up.length > 0) {
          say('db:check: entities and migrations have drifted; `npm run db:generate -- <Name>` would add:');
          up.forEach((query) => say(`  ${query};`));
          return 1;
        }
        const drift = await synchronized(async (fromEntities) => {
          const tables = fromEntities.entityMetadatas.map((entity) => entity.tableName);
          const definitions = (source: DataSource) =>
            definitionsOf((text, parameters) => source.query(text, parameters), tables);
          return differingDefinitions(await definitions(dataSource), await definitions(fromEntities));
        });
        if (drift.length > 0) {
          say('db:check: entities and migrations define these differently (write a migration by hand):');
          drift.forEach((line) => say(`  ${line}`));
          return 1;
        }
        say('db:check: entities and migrations agree.');
        return 0;
      });
    case 'reset':
      if ((await runningPort(DEV_DATA_DIR)) !== undefined) {
        say('The dev database is running (npm run dev): stop it first.');
        return 1;
      }
      await rm(DEV_DATA_DIR, { recursive: true, force: true });
      say(`Removed ${DEV_DATA_DIR}`);
      return 0;
    default:
      say('Usage: node dist/tools/dev/db.js migrate|revert|generate <Name>|check|reset');
      return 2;
  }
}

async function withDevDataSource(work: (dataSource: DataSource) => Promise<number>): Promise<number> {
  // A DATABASE_URL of elsewhere is held to the caller's NODE_ENV rules (production's TLS, say).
  const env = (url: string) => ({
    ...process.env,
    DATABASE_URL: url,
    NODE_ENV: process.env.NODE_ENV ?? 'development',
  });
  // Checked before the embedded server starts (the URL it will have stands in), so that a mistake is told at once.
  loadDatabaseConfig(env(process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1/runway'));
  const database = await devDatabase(say);
  try {
    return await withDataSource(env(database.url), [], work);
  } finally {
    await database.release();
  }
}

/** Every entity the app's feature modules register: loading the app module loads them all. */
async function appEntities(): Promise<DataSourceOptions['entities']> {
  await import('../../src/app.module.js');
  return getMetadataArgsStorage().tables.map((table) => table.target);
}

/** A data source migrated from scratch, and a way to a second database of that server synchronized from the entities. */
async function withScratchDataSource(
  work: (
    dataSource: DataSource,
    synchronized: <T>(work: (fromEntities: DataSource) => Promise<T>) => Promise<T>,
  ) => Promise<number>,
): Promise<number> {
  const entities = await appEntities();
  const dataDir = await mkdtemp(join(tmpdir(), 'runway-db-'));
  const server = await startEmbeddedPostgres({ dataDir, persistent: false });
  try {
    await server.createDatabase('runway');
    // Nothing of the caller's environment: its TLS settings (DB_SSL_*) are for another server than this one.
    const env = (database: string) => ({ DATABASE_URL: server.url(database), NODE_ENV: 'development' });
    const synchronized = async <T>(use: (fromEntities: DataSource) => Promise<T>): Promise<T> => {
      await server.createDatabase('entities');
      return withDataSource(env('entities'), entities, async (fromEntities) => {
        await fromEntities.synchronize();
        return use(fromEntities);
      });
    };
    return await withDataSource(env('runway'), entities, async (dataSource) => {
      await runMigrations(dataSource);
      return work(dataSource, synchronized);
    });
  } finally {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function withDataSource<T>(
  env: Record<string, string | undefined>,
  entities: DataSourceOptions['entities'],
  work: (dataSource: DataSource) => Promise<T>,
): Promise<T> {
  const database = loadDatabaseConfig(env);
  const dataSource = await createMigrationDataSource(database, entities).initialize();
  try {
    return await work(dataSource);
  } finally {
    await dataSource.destroy();
  }
}

async function schemaDiff(dataSource: DataSource): Promise<{ up: string[]; down: string[] }> {
  const sql = await dataSource.driver.createSchemaBuilder().log();
  return {
    up: sql.upQueries.map((query) => query.query),
    down: sql.downQueries.reverse().map((query) => query.query),
  };
}

async function writeMigration(name: string, up: string[], down: string[]): Promise<string> {
  const timestamp = migrationTimestamp(await readdir(MIGRATIONS_DIR), Date.now());
  const className = `${name}${timestamp}`;
  const statements = (queries: string[]) =>
    queries
      .map(
        (query) =>
          `    await queryRunner.query(\`${query.replaceAll('\\', '\\\\').replaceAll('`', '\\`').replaceAll('${', '\\${')}\`);`,
      )
      .join('\n');
  const file = join(MIGRATIONS_DIR, `${timestamp}-${name}.ts`);
  await writeFormatted(
    file,
    `import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ${className} implements MigrationInterface {
  name = '${className}';

  async up(queryRunner: QueryRunner): Promise<void> {
${statements(up)}
  }

  async down(queryRunner: QueryRunner): Promise<void> {
${statements(down)}
  }
}
`,
  );
  await writeMigrationIndex();
  return file;
}

/** migrations/index.ts lists every migration file in order, so nothing is loaded by glob at run time. */
async function writeMigrationIndex(): Promise<void> {
  const files = (await readdir(MIGRATIONS_DIR)).filter((file) => /^\d+-\w+\.ts$/.test(file)).sort();
  const entries = await Promise.all(
    files.map(async (file) => {
      const className = /export class (\w+)/.exec(await readFile(join(MIGRATIONS_DIR, file), 'utf8'))?.[1];
      if (!className) throw new Error(`${file} exports no migration class`);
      return { className, module: `./${file.replace(/\.ts$/, '.js')}` };
    }),
  );
  await writeFormatted(
    join(MIGRATIONS_DIR, 'index.ts'),
    `// Generated by \`npm run db:generate\`: every migration, in order. Do not edit by hand.\n` +
      `import type { MigrationInterface } from 'typeorm';\n` +
      entries.map(({ className, module }) => `import { ${className} } from '${module}';\n`).join('') +
      `\nexport const MIGRATIONS: (new () => MigrationInterface)[] = [${entries.map(({ className }) => className).join(', ')}];\n`,
  );
}

/** Written as the project's Prettier settings format it, so that `npm run lint` passes on what was generated. */
async function writeFormatted(file: string, text: string): Promise<void> {
  // A dev dependency: loaded by the commands that write files only.
  const { format, resolveConfig } = await import('prettier');
  const options = await resolveConfig(file);
  await writeFile(file, await format(text, { ...options, filepath: file }));
}

// The embedded servers started here run in process groups of their own: Ctrl-C reaches this process only, and a signal
// would end it without its exit handlers, which stop them. Exiting from the signal runs those handlers.
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
  ['SIGHUP', 129],
] as const) {
  process.once(signal, () => process.exit(code));
}
runTool(`db ${process.argv[2] ?? ''}`.trim(), () => main(process.argv[2], process.argv[3]));
