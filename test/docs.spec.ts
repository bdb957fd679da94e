import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, VARIABLES } from '../src/config/config.js';
import { ROOT } from './support/process.js';

describe('configuration documentation', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const example = readFileSync(join(ROOT, '.env.example'), 'utf8');

  it.each(VARIABLES)('%s is in the README configuration table', (variable) => {
    expect(readme).toMatch(new RegExp(`^\\| \`${variable}\` +\\|`, 'm'));
  });

  it.each(VARIABLES)('%s is in .env.example', (variable) => {
    expect(example).toMatch(new RegExp(`^#? ?${variable}=`, 'm'));
  });

  it('.env.example is itself a valid configuration', () => {
    const env = Object.fromEntries(
      example
        .split('\n')
        .filter((line) => /^[A-Z_]+=/.test(line))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    expect(() => loadConfig(env)).not.toThrow();
  });

  it('the README starts with the two commands', () => {
    const firstCodeBlock = /```(?:sh|bash)?\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    expect(firstCodeBlock).toContain('npm ci && npm run dev');
    expect(firstCodeBlock).toContain('npm ci && npm test');
  });
});
