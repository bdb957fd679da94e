import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { ProblemException } from './problem.js';

export const MAX_PAGE_SIZE = 100;

/** `?limit=&cursor=` for keyset pagination: the cursor is opaque to clients. */
export class PageQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_SIZE, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  limit: number = 20;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
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
export function pageSchema(item: { name: string }): {
  type: 'object';
  properties: Record<string, object>;
  required: string[];
} {
  return {
    type: 'object',
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

export function encodeCursor(position: Record<string, string>): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

/** Decodes a cursor made by {@link encodeCursor}, checking each field; anything else is a 400. */
export function decodeCursor<K extends string>(cursor: string, fields: Record<K, RegExp>): Record<K, string> {
  let position: unknown;
  try {
    position = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    position = undefined;
  }
  const valid =
    typeof position === 'object' &&
    position !== null &&
    Object.entries(fields).every(([key, pattern]) => {
      const value = (position as Record<string, unknown>)[key];
      return typeof value === 'string' && (pattern as RegExp).test(value);
    });
  if (!valid)
    throw new ProblemException(400, { detail: 'The cursor is malformed; use the nextCursor of a page.' });
  return position as Record<K, string>;
}

/** Keyset page from `limit + 1` rows: the extra row only tells whether there is a next page. */
export function toPage<Row, Item>(
  rows: Row[],
  limit: number,
  toItem: (row: Row) => Item,
  cursorOf: (row: Row) => Record<string, string>,
): Page<Item> {
  const hasMore = rows.length > limit;
  const pageRows = hasMore ? rows.slice(0, limit) : rows;
  return {
    items: pageRows.map(toItem),
    nextCursor: hasMore ? encodeCursor(cursorOf(pageRows.at(-1)!)) : null,
  };
}
