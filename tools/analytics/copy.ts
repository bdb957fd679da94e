import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/** Streams `chunks` of COPY text into `COPY … FROM STDIN`, waiting whenever the server falls behind; returns the rows. */
export async function copyRows(
  client: pg.ClientBase,
  statement: string,
  chunks: Iterable<string | Buffer>,
): Promise<number> {
  const stream = client.query(copyFrom(statement));
  const done = finished(stream);
  done.catch(() => undefined); // awaited below; an error while writing surfaces there or through 'drain'
  for (const chunk of chunks) {
    if (stream.errored) break;
    if (!stream.write(chunk)) await once(stream, 'drain');
  }
  stream.end();
  await done;
  return stream.rowCount;
}
