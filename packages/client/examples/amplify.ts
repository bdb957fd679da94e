// Sign in with Amplify Auth, then call the API with the user's access token.
import { createRunwayClient } from '@runway/client';
import { Amplify } from 'aws-amplify';
import { fetchAuthSession, signIn } from 'aws-amplify/auth';

// The environment's exports: runway-<env>-UserPoolId and runway-<env>-WebClientId.
Amplify.configure({
  Auth: { Cognito: { userPoolId: 'eu-west-1_AbCdEf123', userPoolClientId: 'web-client-id' } },
});
await signIn({ username: 'alice@example.com', password: 'a password of 12 characters' });

const runway = createRunwayClient({
  baseUrl: 'https://api.example.com',
  accessToken: async () => (await fetchAuthSession()).tokens?.accessToken.toString(),
});

const { data: me } = await runway.GET('/v1/me');
const { data: project, error } = await runway.POST('/v1/projects', {
  body: { name: 'Apollo', description: 'to the moon' },
  params: { header: { 'Idempotency-Key': crypto.randomUUID() } },
});
if (error) throw new Error(`${error.title}: ${error.detail ?? ''}`);
const { data: page } = await runway.GET('/v1/projects', { params: { query: { limit: 10 } } });
console.log(
  me?.username,
  project.version,
  page?.items.map(({ name }) => name),
);
