/**
 * Preloaded by the npm scripts (`node --import ./dist/tools/load-env.js`): the checkout's .env, when there is one,
 * under the variables already set. Unlike `node --env-file-if-exists` (which says on stderr when there is no file),
 * it reads the file once node has started: a NODE_OPTIONS there reaches only the processes the script starts. A
 * variable set empty counts as unset, as everywhere in the config, so the file's value applies to it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';

if (existsSync('.env')) {
  for (const [name, value] of Object.entries(parseEnv(readFileSync('.env', 'utf8')))) {
    if (!process.env[name]) process.env[name] = value;
  }
}
