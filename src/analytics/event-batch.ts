import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { invalid, UUID_PATTERN, type FieldError } from '../http/validation.js';
import { isDay } from './days.js';
import type { EventRow } from './activity.repository.js';

export const EVENT_NAME = /^[a-z][a-z0-9_.:-]{0,63}$/;
export const MAX_EVENTS = 500;
/** Room for 500 events of the largest kind (≈ 1.1 MB written compactly), written with indentation too. */
export const MAX_BATCH_BYTES = 2 * 1024 * 1024;
export const MAX_PROPERTIES_BYTES = 2048;
/** How far from now an `occurredAt` may be. */
export const OCCURRED_AT_WINDOW_MS = { past: 7 * 86_400_000, future: 5 * 60_000 };

export class EventInputDto {
  @ApiPropertyOptional({
    format: 'uuid',
    description: 'Chosen by the client; an id you already sent is a duplicate and not stored again',
  })
  id?: string;

  @ApiProperty({ pattern: EVENT_NAME.source, example: 'checkout.completed' })
  name: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Default: now; within the last 7 days' })
  occurredAt?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'At most 2 KiB of JSON; never personal data',
  })
  properties?: Record<string, unknown>;
}

export class EventBatchDto {
  @ApiProperty({ type: [EventInputDto], minItems: 1, maxItems: MAX_EVENTS })
  events: EventInputDto[];
}

export class EventsAcceptedDto {
  @ApiProperty({ description: 'Events stored by this request' })
  accepted: number;

  @ApiProperty({ description: 'Events not stored because their id was sent before' })
  duplicates: number;
}

const FIELDS = new Set(['id', 'name', 'occurredAt', 'properties']);
const INSTANT =
  /^(\d{4}-\d{2}-\d{2})[Tt]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,9})?)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$/;

/**
 * Checks a whole batch against the rules of POST /v1/events and returns it ready to store, or throws one 400 listing
 * every invalid field (`/events/3/name`), so nothing of an invalid batch is stored. Written out rather than with
 * class-validator: a batch has up to 500 events, and this runs at tens of thousands of events a second.
 */
export function parseEventBatch(body: unknown, now: Date): EventRow[] {
  const errors: FieldError[] = [];
  const fail = (pointer: string, detail: string) => void errors.push({ pointer, detail });
  if (body === undefined) throw invalid([{ pointer: '', detail: 'A JSON request body is required.' }]);
  if (!isPlainObject(body)) throw invalid([{ pointer: '', detail: 'The body must be a JSON object.' }]);
  for (const key of Object.keys(body))
    if (key !== 'events') fail(`/${escape(key)}`, `property ${key} should not exist`);
  const { events } = body as { events?: unknown };
  if (!Array.isArray(events) || events.length === 0 || events.length > MAX_EVENTS) {
    fail('/events', `events must be an array of 1 to ${MAX_EVENTS} events`);
    throw invalid(errors);
  }
  const earliest = now.getTime() - OCCURRED_AT_WINDOW_MS.past;
  const latest = now.getTime() + OCCURRED_AT_WINDOW_MS.future;
  const nowText = now.toISOString();
  let lastValidDay = ''; // the events of a batch mostly share their day
  const rows = events.map((event: unknown, index): EventRow => {
    const at = (field: string) => `/events/${index}/${field}`; // spelled out for invalid events only
    if (!isPlainObject(event)) {
      fail(`/events/${index}`, 'an event must be a JSON object');
      return undefined as never;
    }
    for (const key in event) {
      if (!FIELDS.has(key)) fail(at(escape(key)), `property ${key} should not exist`);
    }
    const { id, name, occurredAt, properties } = event as Record<string, unknown>;
    if (id !== undefined && (typeof id !== 'string' || !UUID_PATTERN.test(id.toLowerCase()))) {
      fail(at('id'), 'id must be a UUID');
    }
    if (typeof name !== 'string' || !EVENT_NAME.test(name)) {
      fail(at('name'), `name must match ${EVENT_NAME.source}`);
    }
    let time = now.getTime();
    if (occurredAt !== undefined) {
      const match = typeof occurredAt === 'string' ? INSTANT.exec(occurredAt) : null;
      const validDay = match !== null && (match[1] === lastValidDay || isDay(match[1]!));
      if (validDay) lastValidDay = match[1]!;
      time = validDay ? Date.parse(occurredAt as string) : NaN;
      if (Number.isNaN(time))
        fail(at('occurredAt'), 'occurredAt must be an ISO 8601 date-time with an offset');
      else if (time < earliest || time > latest) {
        fail(at('occurredAt'), 'occurredAt must be within the last 7 days (and at most 5 minutes ahead)');
      }
    }
    if (properties !== undefined) {
      const problem = propertiesProblem(properties);
      if (problem) fail(at('properties'), problem);
    }
    return {
      id: typeof id === 'string' ? id.toLowerCase() : null,
      name: name as string,
      occurredAt: occurredAt === undefined ? nowText : canonicalInstant(occurredAt as string, time),
      properties: (properties as object | undefined) ?? null,
    };
  });
  if (errors.length > 0) throw invalid(errors);
  return rows;
}

/** The instant as `toISOString` writes it, which clients mostly send already. */
function canonicalInstant(text: string, time: number): string {
  if (Number.isNaN(time)) return '';
  return text.length === 24 && text[23] === 'Z' && text[10] === 'T' ? text : new Date(time).toISOString();
}

/** `\u0000` after an even number of backslashes: the escape of U+0000 itself, not text that reads like it. */
const ESCAPED_NUL = /(?<!\\)(?:\\\\)*\\u0000/;

/** Why `properties` breaks the rules of POST /v1/events, if it does. */
export function propertiesProblem(properties: unknown): string | undefined {
  if (!isPlainObject(properties)) return 'properties must be a JSON object';
  const json = JSON.stringify(properties);
  if (Buffer.byteLength(json) > MAX_PROPERTIES_BYTES) {
    return `properties must be at most ${MAX_PROPERTIES_BYTES} bytes of JSON`;
  }
  // PostgreSQL's jsonb cannot hold U+0000. JSON.stringify writes it `\u0000`; text that only reads so, `\\u0000`.
  if (json.includes('\\u0000') && ESCAPED_NUL.test(json))
    return 'properties must not contain the character U+0000';
  return undefined;
}

function isPlainObject(value: unknown): value is object {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function escape(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1');
}
