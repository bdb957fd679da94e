import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mergeAddons } from '../../tools/deploy/addons.js';
import { loadConfig, VARIABLES } from '../../src/config/config.js';
import { ROOT } from '../support/process.js';

const text = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** README.md and every document of docs/, so a new document is checked as soon as it exists. */
const DOCS = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((file) => file.endsWith('.md'))
    .sort()
    .map((file) => `docs/${file}`),
];

const README_MAX_CHARACTERS = 8_000;

describe('configuration documentation', () => {
  const table = text('docs/configuration.md');
  const example = text('.env.example');

  it.each(VARIABLES)('%s is in the docs/configuration.md table', (variable) => {
    expect(table).toMatch(new RegExp(`^\\| \`${variable}\` +\\|`, 'm'));
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
});

describe('README', () => {
  const readme = text('README.md');

  it('starts with the two commands', () => {
    const firstCodeBlock = /```(?:sh|bash)?\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    expect(firstCodeBlock).toContain('npm ci && npm run dev');
    expect(firstCodeBlock).toContain('npm ci && npm test');
  });

  it(`is at most ${README_MAX_CHARACTERS} characters: the detail belongs in docs/`, () => {
    expect(readme.length).toBeLessThanOrEqual(README_MAX_CHARACTERS);
  });
});

describe('documentation', () => {
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

  it.each(DOCS)('%s: every relative link points to an existing file', (doc) => {
    // Links inside code are not links: drop fenced blocks and inline code first.
    const prose = text(doc)
      .replace(/^[ \t]*(```|~~~)[^\n]*\n[\s\S]*?^[ \t]*\1[^\n]*$/gm, '')
      .replace(/`[^`\n]*`/g, '');
    for (const [, target] of prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      if (/^([a-z][a-z0-9+.-]*:|#)/i.test(target!)) continue; // another site, mail, or a heading of this page
      const file = decodeURIComponent(target!.replace(/[#?].*$/, ''));
      expect(existsSync(join(ROOT, dirname(doc), file)), `${doc}: ${target}`).toBe(true);
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
