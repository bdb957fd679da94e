/**
 * `npm run bench -- --ingest-ceiling`: how fast PostgreSQL alone stores the events scenario's batches on this machine,
 * with no HTTP server in between. The baseline's statement (bench/reference-routes.ts) and a COPY of the same rows
 * run from 10 connections (the servers' pool size), in turn for BENCH_ROUNDS rounds of BENCH_DURATION_S each. Prints
 * per form the median events per second and CPU per event of PostgreSQL and of this process (which builds the
 * batches), and how much CPU per event the machine's cores leave at the analytics issue's 60,000 events a second.
 */
import { availableParallelism } from 'node:os';
import { copyRows } from '../tools/analytics/copy.js';
import type { Fixture } from './fixture.js';
import { postgresCpuMicros } from './proc.js';
import { referenceRoutes, type ReferenceRoutes } from './reference-routes.js';
import { median, rotate } from './report.js';

const WRITERS = 10;
const TARGET_EVENTS_PER_SECOND = 60_000;

export interface BatchEvent {
  id: string;
  name: string;
  occurredAt: string;
  properties?: object;
}

type Store = (routes: ReferenceRoutes, userId: string, events: BatchEvent[]) => Promise<unknown>;

const FORMS: Record<string, Store> = {
  "the baseline's INSERT … SELECT FROM jsonb_to_recordset": (routes, _userId, events) =>
    routes.storeEvents(events),
  'COPY … FROM STDIN': async (routes, userId, events) => {
    const rows = events.map((event) => {
      const properties = event.properties ? JSON.stringify(event.properties).replaceAll('\\', '\\\\') : '\\N';
      return `${userId}\t${event.occurredAt}\t${event.name}\t${event.id}\t${properties}\n`;
    });
    const client = await routes.pool.connect();
    try {
      await copyRows(
        client,
        'COPY analytics_events (user_id, occurred_at, name, id, properties) FROM STDIN',
        [rows.join('')],
      );
    } finally {
      client.release();
    }
  },
};

interface Sample {
  eventsPerSecond: number;
  postgresMicros: number;
  clientMicros: number;
}

export async function measureIngestCeiling(
  fixture: Fixture,
  options: { rounds: number; durationS: number; postgresPid: number; nextBatch: () => BatchEvent[] },
): Promise<void> {
  const senderIds = fixture.senders.map((sender) => sender.id);
  const routes = referenceRoutes({
    DATABASE_URL: fixture.databaseUrl,
    DB_POOL_MAX: String(WRITERS),
    BENCH_SENDER_IDS: senderIds.join(','),
  });
  // pool.end() resolves before its connections have closed: one may still be told the server is stopping.
  routes.pool.on('error', () => undefined);
  let turn = 0;
  const run = async (store: Store, seconds: number): Promise<Sample> => {
    let events = 0;
    const cpuBefore = process.cpuUsage();
    const postgresBefore = postgresCpuMicros(options.postgresPid);
    const start = performance.now();
    const end = start + seconds * 1000;
    await Promise.all(
      Array.from({ length: WRITERS }, async () => {
        while (performance.now() < end) {
          const batch = options.nextBatch();
          await store(routes, senderIds[turn++ % senderIds.length]!, batch);
          events += batch.length;
        }
      }),
    );
    const elapsedS = (performance.now() - start) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    return {
      eventsPerSecond: events / elapsedS,
      postgresMicros: (postgresCpuMicros(options.postgresPid) - postgresBefore) / events,
      clientMicros: (cpu.user + cpu.system) / events,
    };
  };
  try {
    const names = Object.keys(FORMS);
    for (const name of names) await run(FORMS[name]!, 2); // warm-up
    const samples = new Map<string, Sample[]>(names.map((name) => [name, []]));
    for (let round = 0; round < options.rounds; round++) {
      for (const name of rotate(names, round))
        samples.get(name)!.push(await run(FORMS[name]!, options.durationS));
    }
    printCeiling(samples, options.rounds);
  } finally {
    await routes.pool.end();
  }
}

function printCeiling(samples: Map<string, Sample[]>, rounds: number): void {
  const lines = [
    `Ingestion without HTTP: ${WRITERS} connections, ${rounds} rounds, medians over rounds`,
    '',
    '| Form | events/s | PostgreSQL CPU µs/event | this process CPU µs/event |',
    '| --- | ---: | ---: | ---: |',
  ];
  for (const [name, runs] of samples) {
    const figure = (pick: (sample: Sample) => number, digits: number) =>
      median(runs.map(pick)).toFixed(digits);
    lines.push(
      `| ${name} | ${figure((s) => s.eventsPerSecond, 0)} | ${figure((s) => s.postgresMicros, 1)} | ${figure((s) => s.clientMicros, 1)} |`,
    );
  }
  const budget = (availableParallelism() * 1e6) / TARGET_EVENTS_PER_SECOND;
  lines.push(
    '',
    `At ${TARGET_EVENTS_PER_SECOND.toLocaleString('en')} events/s, ${availableParallelism()} cores leave ` +
      `${budget.toFixed(1)} µs of CPU per event for the load generator, the server and PostgreSQL together.`,
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}
