import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { definitionsOf, differingDefinitions } from '../../tools/dev/schema-definitions.js';
import { createTestDatabase } from '../support/database.js';

/** A fresh database holding `ddl`, read as db:check reads it. */
async function definitions(ddl: string): Promise<Map<string, string>> {
  const database = await createTestDatabase({ empty: true });
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    await client.query(ddl);
    return await definitionsOf(
      async (text, parameters) => (await client.query(text, parameters)).rows,
      ['things'],
    );
  } finally {
    await client.end();
    await database.drop();
  }
}

describe("db:check's comparison of definitions", () => {
  const table = (status: string, index: string) => `
    CREATE TABLE things (id int PRIMARY KEY, owner int NOT NULL, status text NOT NULL,
      CONSTRAINT ck_things_status CHECK (status IN (${status})));
    CREATE INDEX ix_things_owner ON things ${index};
    CREATE TABLE others (id int CONSTRAINT ck_others CHECK (id > 0))`;

  it("finds a check's expression and an index's column order or WHERE that differ under the same name", async () => {
    const migrated = await definitions(table(`'active', 'archived'`, '(owner, id)'));
    expect(
      differingDefinitions(migrated, await definitions(table(`'active', 'archived'`, '(owner, id)'))),
    ).toEqual([]);

    const drift = differingDefinitions(
      migrated,
      await definitions(table(`'active', 'archived', 'paused'`, '(id, owner)')),
    );
    expect(drift).toHaveLength(2);
    expect(drift[0]).toMatch(
      /^things\.ck_things_status: the entities say CHECK .*'paused'.*; the migrations, CHECK /,
    );
    expect(drift[1]).toMatch(
      /^things\.ix_things_owner: the entities say .*\(id, owner\); the migrations, .*\(owner, id\)$/,
    );

    const partial = await definitions(table(`'active', 'archived'`, "(owner, id) WHERE status = 'active'"));
    expect(differingDefinitions(migrated, partial)).toEqual([
      expect.stringMatching(/^things\.ix_things_owner: .*WHERE/),
    ]);
  });

  it('leaves what only one side has to the schema builder, and reads only the tables it is given', async () => {
    const migrated = await definitions(table(`'active'`, '(owner)'));
    expect([...migrated.keys()].sort()).toEqual([
      'things.ck_things_status',
      'things.ix_things_owner',
      'things.things_pkey',
    ]);
    const fewer = new Map([...migrated].filter(([name]) => name !== 'things.ix_things_owner'));
    expect(differingDefinitions(migrated, fewer)).toEqual([]);
    expect(differingDefinitions(fewer, migrated)).toEqual([]);
  });
});
