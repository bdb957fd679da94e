import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { spawn } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../tools/dev/ports.js';
import { until } from './until.js';

const EMULATOR = createRequire(import.meta.url).resolve('cognito-local/lib/bin/start.js');

export interface Emulator {
  port: number;
  /** `http://127.0.0.1:<port>`: the Cognito API and each pool's JWKS. */
  endpoint: string;
  cognito: CognitoIdentityProviderClient;
  stop(): Promise<void>;
}

/** cognito-local (a Cognito API emulator) on a free loopback port, in a folder of its own, seeded from `seedDir`. */
export async function startEmulator(seedDir?: string): Promise<Emulator> {
  const port = await freePort();
  const workDir = await mkdtemp(join(tmpdir(), 'runway-cognito-local-'));
  if (seedDir) await cp(seedDir, join(workDir, '.cognito'), { recursive: true });
  const child = spawn(process.execPath, [EMULATOR], {
    cwd: workDir,
    env: { PATH: process.env.PATH, PORT: String(port) },
    stdio: 'ignore',
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const answers = () =>
    fetch(endpoint).then(
      () => true,
      () => false,
    );
  if (!(await until(answers))) throw new Error(`${endpoint} did not answer`);
  return {
    port,
    endpoint,
    cognito: new CognitoIdentityProviderClient({
      endpoint,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
    stop: async () => {
      child.kill();
      await rm(workDir, { recursive: true, force: true });
    },
  };
}
