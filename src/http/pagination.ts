import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { ProblemException } from './problem.js';

export const MAX_PAGE_SIZE = 100;
/** Digits only: `Number()` alone would also read `0x10`, `1e1`, ` 5` and the empty string. */
const DECIMAL = /^[0-9]{1,9}$/;

/** A query parameter's decimal digits as a number (anything else is left for the validators to refuse). */
export const DecimalInteger = () =>
  Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && DECIMAL.test(value) ? Number(value) : value,
  );

/** `?limit=&cursor=` for keyset pagination: the cursor is opaque to clients. */
export class PageQuery {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: 20 })
  @IsOptional()
  @DecimalInteger()
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  limit: number = 20;

  @ApiPropertyOptional({ minLength: 1, maxLength: 512, description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** OpenAPI schema of a page of `item`. */
export function pageSchema(item: { name: string }) {
  return {
    type: 'object' as const,
    properties: {
      items: { type: 'array', items: { $ref: `#/components/schemas/${item.name}` } },
      nextCursor: {
        type: ['string', 'null'],
        description: 'Pass as `cursor` for the next page; null on the last',
      },
    },
    required: ['items', 'nextCursor'],
  };
}

/**
 * A cursor holds the sort key of the last item of a page, `{"after": key}` encoded so that clients treat it as
 * opaque. Decoding checks the key with `isKey`; anything else is a 400.
 */
export function decodeCursor(cursor: string, isKey: (after: string) => boolean): string {
  let position: unknown;
  try {
    position = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    position = undefined;
  }
  const after = (position as { after?: unknown } | null | undefined)?.after;
  if (typeof after !== 'string' || !isKey(after)) {
    throw new ProblemException(400, { detail: 'The cursor is malformed; use the nextCursor of a page.' });
  }
  return after;
}

/** Keyset page from `limit + 1` rows: the extra row only tells whether there is a next page. */
export function toPage<Row, Item>(
  rows: Row[],
  limit: number,
  toItem: (row: Row) => Item,
  sortKeyOf: (row: Row) => string,
): Page<Item> {
  const hasMore = rows.length > limit;
  const pageRows = hasMore ? rows.slice(0, limit) : rows;
  const after = hasMore ? sortKeyOf(pageRows.at(-1)!) : undefined;
  return {
    items: pageRows.map(toItem),
    nextCursor: after === undefined ? null : Buffer.from(JSON.stringify({ after })).toString('base64url'),
  };
}
