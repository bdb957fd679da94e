/**
 * The journey of ./journey.ts as a CloudWatch Synthetics canary: sign the canary's Cognito user in
 * (USER_PASSWORD_AUTH over fetch), walk the journey, throw when a step fails (a throw is what marks a run failed).
 *
 * Synthetics runs this as one CommonJS file, the inline `Script` of copilot/api/addons/canary.yml rendered by
 * tools/deploy/canary.ts. So it may use only ./journey.ts, Node globals (fetch) and the Secrets Manager client that the
 * Synthetics Node.js runtime provides, loaded lazily so that tests can inject `getSecret` instead.
 *
 * Environment: BASE_URL, CANARY_SECRET_ID (a secret holding {"username": …, "password": …}), COGNITO_CLIENT_ID,
 * COGNITO_ENDPOINT (default: the regional Cognito endpoint of AWS_REGION).
 */
import { runJourney, summarize, type JourneyResult } from './journey.js';

export interface CanaryOptions {
  env?: Record<string, string | undefined>;
  /** The SecretString of a secret (default: read from Secrets Manager). */
  getSecret?: (secretId: string) => Promise<string>;
  log?: (line: string) => void;
  timeoutMs?: number;
}

export interface SignInOptions {
  endpoint: string;
  clientId: string;
  username: string;
  password: string;
  timeoutMs?: number;
}

const SECRETS_MANAGER_CLIENT = '@aws-sdk/client-secrets-manager';

export async function runCanary(options: CanaryOptions = {}): Promise<JourneyResult> {
  const env = options.env ?? process.env;
  const setting = (name: string): string => {
    const value = env[name];
    if (!value) throw new Error(`canary: ${name} is not set`);
    return value;
  };
  const baseUrl = setting('BASE_URL');
  const clientId = setting('COGNITO_CLIENT_ID');
  const endpoint = env.COGNITO_ENDPOINT || `https://cognito-idp.${setting('AWS_REGION')}.amazonaws.com/`;
  const secret = await (options.getSecret ?? secretsManagerSecret)(setting('CANARY_SECRET_ID'));
  const token = await signIn({ endpoint, clientId, ...credentials(secret), timeoutMs: options.timeoutMs });
  const result = await runJourney({ baseUrl, token, timeoutMs: options.timeoutMs });
  const line = summarize(result);
  (options.log ?? ((text: string) => process.stdout.write(`${text}\n`)))(line);
  if (!result.ok) throw new Error(line);
  return result;
}

/** The canary's entry point (`index.handler`). */
export async function handler(): Promise<string> {
  return summarize(await runCanary());
}

/** An access token for the user, through Cognito's InitiateAuth (USER_PASSWORD_AUTH). */
export async function signIn(options: SignInOptions): Promise<string> {
  const response = await fetch(options.endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'AWSCognitoIdentityProviderService.InitiateAuth',
    },
    body: JSON.stringify({
      AuthFlow: 'USER_PASSWORD_AUTH',
      ClientId: options.clientId,
      AuthParameters: { USERNAME: options.username, PASSWORD: options.password },
    }),
    signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
  });
  const body = (await response.json().catch(() => ({}))) as {
    AuthenticationResult?: { AccessToken?: string };
    ChallengeName?: string;
    __type?: string;
    message?: string;
  };
  const accessToken = body.AuthenticationResult?.AccessToken;
  if (accessToken) return accessToken;
  if (body.ChallengeName) {
    // A user created with a temporary password must get a permanent one (admin-set-user-password --permanent).
    throw new Error(`canary: sign-in failed: Cognito asks for ${body.ChallengeName}`);
  }
  const reason = [body.__type?.split('#').pop(), body.message].filter(Boolean).join(': ');
  throw new Error(`canary: sign-in failed: ${response.status}${reason ? ` ${reason}` : ''}`);
}

/** The canary user's credentials from the secret's JSON; the message of a malformed one quotes none of it. */
export function credentials(secret: string): { username: string; password: string } {
  let value: unknown;
  try {
    value = JSON.parse(secret);
  } catch {
    value = undefined;
  }
  const { username, password } = (value ?? {}) as Record<string, unknown>;
  if (typeof username !== 'string' || !username || typeof password !== 'string' || !password) {
    throw new Error('canary: the secret must be JSON {"username": "…", "password": "…"}');
  }
  return { username, password };
}

interface SecretsManagerModule {
  SecretsManagerClient: new (config: object) => {
    send(command: unknown): Promise<{ SecretString?: string }>;
  };
  GetSecretValueCommand: new (input: { SecretId: string }) => unknown;
}

async function secretsManagerSecret(secretId: string): Promise<string> {
  // Not a dependency of the project: the Synthetics runtime provides it.
  const sdk = (await import(SECRETS_MANAGER_CLIENT)) as SecretsManagerModule;
  const output = await new sdk.SecretsManagerClient({}).send(
    new sdk.GetSecretValueCommand({ SecretId: secretId }),
  );
  if (!output.SecretString) throw new Error(`canary: secret ${secretId} has no SecretString`);
  return output.SecretString;
}
