/** The JSON form of a row: its Date fields become ISO 8601 strings, as a response body carries them. */
export type Json<T> = {
  [K in keyof T]: T[K] extends Date ? string : T[K] extends Date | null ? string | null : T[K];
};

export function toJson<T extends object>(row: T): Json<T> {
  const json: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row))
    json[key] = value instanceof Date ? value.toISOString() : value;
  return json as Json<T>;
}
