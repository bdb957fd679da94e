import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mergeAddons } from '../../tools/deploy/addons.js';
import { loadConfig, VARIABLES } from '../../src/config/config.js';
import { ROOT } from '../support/process.js';

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

describe('deployment and operations documentation', () => {
  const DOCS = ['README.md', 'docs/deploy.md', 'docs/operations.md'];
  const text = (path: string) => readFileSync(join(ROOT, path), 'utf8');
  const scripts = Object.keys(
    (JSON.parse(text('package.json')) as { scripts: Record<string, string> }).scripts,
  );
  const exportNames = (() => {
    const names = new Set<string>();
    for (const folder of ['environments', 'api']) {
      for (const output of Object.values(
        mergeAddons(join(ROOT, 'copilot', folder, 'addons')).Outputs ?? {},
      )) {
        const name = (output.Export?.Name as { 'Fn::Sub'?: string } | undefined)?.['Fn::Sub'];
        if (name) names.add(name.replace('${App}-${Env}-', '').replace('${Name}', 'api'));
      }
    }
    return names;
  })();

  it.each(DOCS)('%s: every npm script it runs exists', (doc) => {
    for (const [, script] of text(doc).matchAll(/npm run (?:-s |--silent )?([\w:-]+)/g)) {
      expect(scripts, `${doc}: npm run ${script}`).toContain(script);
    }
  });

  it.each(DOCS)('%s: every repository path it names exists', (doc) => {
    for (const [, path] of text(doc).matchAll(
      /`((?:copilot|src|tools|test|bench|docs|docker|migrations)\/[\w./-]+)`/g,
    )) {
      expect(existsSync(join(ROOT, path!.replace(/\/$/, ''))), `${doc}: ${path}`).toBe(true);
    }
  });

  it.each(DOCS)('%s: copilot commands name the real app, service, environments and pipeline', (doc) => {
    const names = new Set(['runway', 'api', 'test', 'prod', 'runway-main', '"$env"', '<env>']);
    for (const [, name] of text(doc).matchAll(
      /copilot [a-z]+ [a-z]+[^\n]*?--(?:name|env|app) ([^\s\\`]+)/g,
    )) {
      const variable = /^"?\$\{?(\w+)\}?"?$/.exec(name!)?.[1];
      // A shell variable must be set in the same document (`APP=runway`, `env=test`, …).
      if (variable) expect(text(doc), `${doc}: ${name}`).toMatch(new RegExp(`\\b${variable}=`));
      else expect(names, `${doc}: ${name}`).toContain(name);
    }
  });

  it.each(DOCS)('%s: every CloudFormation export it reads is created by an addon', (doc) => {
    const copilotExports = ['PublicLoadBalancerDNS', 'VpcId', 'PrivateSubnets', 'PublicSubnets', 'ClusterId'];
    // Exports are PascalCase (`runway-test-DatabaseSecret`, `runway-test-api-CanarySecret`); alarm names are not.
    for (const [, name] of text(doc).matchAll(/runway-(?:test|prod|<env>|\$env)-((?:api-)?[A-Z]\w*)/g)) {
      expect([...exportNames, ...copilotExports], `${doc}: ${name}`).toContain(name);
    }
  });
});
