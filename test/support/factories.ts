import type { TestApp } from './app.js';
import type { TestCaller } from './tokens.js';

export interface CreatedProject {
  id: string;
  name: string;
  version: number;
  etag: string;
}

/** Creates a project through the real API, as its owner would. */
export async function createProject(
  t: TestApp,
  owner: TestCaller,
  fields: { name?: string; description?: string; status?: 'active' | 'archived' } = {},
): Promise<CreatedProject> {
  const response = await t
    .http()
    .post('/v1/projects')
    .set('authorization', owner.authorization)
    .send({ name: fields.name ?? `project-${Math.random().toString(36).slice(2, 10)}`, ...fields });
  if (response.status !== 201)
    throw new Error(`createProject: ${response.status} ${JSON.stringify(response.body)}`);
  const body = response.body as { id: string; name: string; version: number };
  return { ...body, etag: response.headers.etag as string };
}
