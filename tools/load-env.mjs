/**
 * Preloaded by the npm scripts (`node --import ./tools/load-env.mjs`): the checkout's .env, when there is one, under
 * the variables already set. `node --env-file-if-exists` does the same but says on stderr when there is none.
 */
import { existsSync } from 'node:fs';

if (existsSync('.env')) process.loadEnvFile('.env');
