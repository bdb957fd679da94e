import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** package.json of the app, found from this file both in src/ (tests) and in dist/src/ (built). */
function readPackageJson(): { name: string; version: string } {
  for (let dir = import.meta.dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      const manifest = JSON.parse(readFileSync(candidate, 'utf8')) as { name: string; version: string };
      if (manifest.name === 'runway') return manifest;
    }
  }
  return { name: 'runway', version: '0.0.0' };
}

export const APP_VERSION = readPackageJson().version;
