import type { TestApp } from './app.js';
import type { TestCaller } from './tokens.js';

export interface Created {
  id: string;
  name: string;
  version: number;
  etag: string;
}

/**
 * A factory for an owner-scoped resource at `path` (`/v1/projects`): creates one through the real API, as its owner
 * would, from `defaults()` and the given fields.
 */
export function resourceFactory(path: string, defaults: () => object) {
  return async (
    t: TestApp,
    owner: Pick<TestCaller, 'authorization'>,
    fields: Record<string, unknown> = {},
  ) => {
    const response = await t
      .http()
      .post(path)
      .set('authorization', owner.authorization)
      .send({ ...defaults(), ...fields });
    if (response.status !== 201)
      throw new Error(`POST ${path}: ${response.status} ${JSON.stringify(response.body)}`);
    const body = response.body as { id: string; name: string; version: number };
    return { ...body, etag: response.headers.etag as string } satisfies Created;
  };
}

export const uniqueName = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2, 10)}`;
