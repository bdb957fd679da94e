/**
 * Preloaded by the npm scripts (`node --import ./dist/tools/load-env.js`): the checkout's .env, when there is one,
 * under the variables already set. Unlike `node --env-file-if-exists` (which says on stderr when there is no file),
 * it reads the file once node has started: a NODE_OPTIONS there reaches only the processes the script starts.
 */
import { existsSync } from 'node:fs';

if (existsSync('.env')) process.loadEnvFile('.env');
