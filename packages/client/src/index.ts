import createClient, { type Client } from 'openapi-fetch';
import type { paths } from './schema.js';

export type { components, operations, paths } from './schema.js';

/** The Runway API, typed: `GET`, `POST`, … take the paths and bodies of the OpenAPI document and return its shapes. */
export type RunwayClient = Client<paths>;

export interface RunwayClientOptions {
  /** `https://api.example.com` (no trailing /v1). */
  baseUrl: string;
  /** The Cognito access token to send, asked for on each request: Amplify refreshes it when it expires. */
  accessToken: () => Promise<string | undefined>;
  /** A fetch of your own (tests, React Native); the global one by default. */
  fetch?: typeof globalThis.fetch;
}

export function createRunwayClient({ baseUrl, accessToken, fetch }: RunwayClientOptions): RunwayClient {
  const client = createClient<paths>({ baseUrl, ...(fetch ? { fetch } : {}) });
  client.use({
    async onRequest({ request }) {
      const token = await accessToken();
      if (token) request.headers.set('Authorization', `Bearer ${token}`);
      return request;
    },
  });
  return client;
}
