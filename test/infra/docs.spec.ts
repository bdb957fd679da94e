import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mergeAddons } from '../../tools/deploy/addons.js';
import { loadConfig, VARIABLES } from '../../src/config/config.js';
import { RULES } from '../../src/config/rules.js';
import { ROOT, withImageFiles } from '../support/process.js';

const text = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** README.md and every document of docs/, so a new document is checked as soon as it exists. */
const DOCS = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((file) => file.endsWith('.md'))
    .sort()
    .map((file) => `docs/${file}`),
];

const README_MAX_BYTES = 8_000;

describe('configuration documentation', () => {
  const table = text('docs/configuration.md');
  const example = text('.env.example');

  it.each(VARIABLES)('%s is in the docs/configuration.md table', (variable) => {
    expect(table).toMatch(new RegExp(`^\\| \`${variable}\` +\\|`, 'm'));
  });

  it.each(RULES.map((rule) => [rule.variable, rule] as const))(
    'the rule on %s is under "Rules between variables", with the production-only ones apart',
    (variable, rule) => {
      const start = table.indexOf('## Rules between variables');
      const end = table.indexOf('\n## ', start + 1);
      const rules = table.slice(start, end === -1 ? undefined : end);
      const [everywhere, production] = rules.split('Only when `NODE_ENV=production`:');
      expect(rule.productionOnly ? production : everywhere).toContain(`\`${variable}\``);
    },
  );

  it.each(VARIABLES)('%s is in .env.example', (variable) => {
    expect(example).toMatch(new RegExp(`^#? ?${variable}=`, 'm'));
  });

  /** The variables of `.env.example`'s lines that match `pattern` (`VAR=value`, commented out or not). */
  const exampleVariables = (pattern: RegExp) =>
    Object.fromEntries(
      example
        .split('\n')
        .filter((line) => pattern.test(line))
        .map((line) => line.replace(/^# /, ''))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
  const REQUIRED = ['DATABASE_URL', 'COGNITO_USER_POOL_ID', 'COGNITO_CLIENT_ID'];

  it('.env.example is a valid configuration once its required variables are set', () => {
    const env = {
      ...exampleVariables(/^[A-Z_]+=/),
      ...exampleVariables(new RegExp(`^# (${REQUIRED.join('|')})=`)),
    };
    expect(() => loadConfig(env)).not.toThrow();
  });

  it('.env.example, copied to .env, overrides nothing npm run dev sets (tools/dev/dev.ts)', () => {
    const setByDev = [
      ...REQUIRED,
      'HOST',
      'PORT',
      'MIGRATE_ON_START',
      'COGNITO_JWKS_URL',
      'COGNITO_DOMAIN',
      'COGNITO_WEB_CLIENT_ID',
      'TASKS_NOTIFY_EMAILS',
      'PUBLIC_BASE_URL',
    ];
    expect(Object.keys(exampleVariables(/^[A-Z_]+=/)).filter((name) => setByDev.includes(name))).toEqual([]);
  });
});

describe('README', () => {
  const readme = text('README.md');

  it('starts with the two commands', () => {
    const firstCodeBlock = /```(?:sh|bash)?\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    expect(firstCodeBlock).toContain('npm ci && npm run dev');
    expect(firstCodeBlock).toContain('npm ci && npm test');
  });

  it(`is at most ${README_MAX_BYTES} bytes (UTF-8): the detail belongs in docs/`, () => {
    expect(Buffer.byteLength(readme)).toBeLessThanOrEqual(README_MAX_BYTES);
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

describe('leaving Copilot (docs/operations.md)', () => {
  /** Option A's script, which writes the Express Mode container from the manifest and the environment's exports. */
  const script = (/<<'EOF'\n([\s\S]*?)\n {3}EOF\n/.exec(text('docs/operations.md'))?.[1] ?? '').replace(
    /^ {3}/gm,
    '',
  );
  const exportValues = (env: string) => ({
    [`runway-${env}-UserPoolId`]: 'eu-west-1_AbCdEf123',
    [`runway-${env}-AppClientIds`]: '4example1webclient,5example2machine,6example3canary',
    [`runway-${env}-CognitoDomain`]: `runway-${env}-1a2b3c.auth.eu-west-1.amazoncognito.com`,
    [`runway-${env}-WebClientId`]: '4example1webclient',
    [`runway-${env}-DatabaseSecret`]: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:db',
  });

  it.each(['test', 'prod'])(
    '%s: the Express Mode container it writes is a complete production configuration',
    (env) => {
      expect(script).toContain('copilot/api/manifest.yml');
      const folder = mkdtempSync(join(tmpdir(), 'runway-express-'));
      try {
        mkdirSync(join(folder, 'copilot', 'api'), { recursive: true });
        copyFileSync(
          join(ROOT, 'copilot', 'api', 'manifest.yml'),
          join(folder, 'copilot', 'api', 'manifest.yml'),
        );
        symlinkSync(join(ROOT, 'node_modules'), join(folder, 'node_modules'));
        const exports = Object.entries(exportValues(env)).map(([Name, Value]) => ({ Name, Value }));
        writeFileSync(join(folder, 'exports.json'), JSON.stringify(exports));
        const container = JSON.parse(
          execFileSync(
            process.execPath,
            ['--input-type=module', '-', 'runway', env, 'runway/api:1', 'arn:link', 'arn:token'],
            { cwd: folder, input: script, encoding: 'utf8' },
          ),
        ) as {
          environment: { name: string; value: string }[];
          secrets: { name: string; valueFrom: string }[];
        };
        const environment = Object.fromEntries(container.environment.map(({ name, value }) => [name, value]));
        for (const { name } of container.secrets) {
          environment[name] =
            name === 'DB_SECRET'
              ? JSON.stringify({
                  username: 'runway',
                  password: 'p',
                  host: 'db',
                  port: 5432,
                  dbname: 'runway',
                })
              : 'x'.repeat(64);
        }
        expect(container.secrets.map(({ name }) => name).sort()).toEqual([
          'DB_SECRET',
          'TASK_LINK_SECRET',
          'TASK_TOKEN_KEY',
        ]);
        expect(loadConfig(withImageFiles(environment))).toMatchObject({
          env: 'production',
          telemetry: { tracesEnabled: false, deploymentEnvironment: env },
        });
      } finally {
        rmSync(folder, { recursive: true, force: true });
      }
    },
  );
});
