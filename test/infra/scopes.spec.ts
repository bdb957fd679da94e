/**
 * One set of OAuth scope names (src/auth/scopes.ts) for the API, the Cognito addon's resource server, every client
 * and token request of the addons, the dev issuer and the documentation: a scope named differently anywhere would be
 * refused at run time (403), with nothing failing before.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RESOURCE_SERVER, SCOPES } from '../../src/auth/scopes.js';
import { mergeAddons, type Template } from '../../tools/deploy/addons.js';
import { accessTokenClaims } from '../../tools/dev/dev-issuer.js';
import { environmentAddons, resourcesOf, type Json } from '../support/cloudformation.js';
import { ROOT } from '../support/process.js';

const SCOPE_VALUES: string[] = Object.values(SCOPES);
/** Scopes Cognito defines itself; clients may ask for them without a resource server. */
const COGNITO_SCOPES = ['openid', 'email', 'phone', 'profile', 'aws.cognito.signin.user.admin'];
/** Anything shaped like one of the API's scopes, including a stale or misspelt resource server. */
const SCOPE_LIKE = /\brunway[\w.-]*\/tasks\.[\w.-]*\w/g;

const COPILOT = join(ROOT, 'copilot');
const ADDON_TEMPLATES: Record<string, Template> = {
  environments: environmentAddons,
  api: mergeAddons(join(COPILOT, 'api', 'addons')),
};

function files(folder: string, suffix: string): string[] {
  return readdirSync(folder, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(suffix))
    .map((entry) => join(entry.parentPath, entry.name));
}

describe('OAuth scope names', () => {
  it('are those of the Cognito resource server', () => {
    const servers = resourcesOf(environmentAddons, 'AWS::Cognito::UserPoolResourceServer').map(
      ([, server]) => server.Properties as { Identifier: unknown; Scopes: { ScopeName: string }[] },
    );
    expect(servers).toHaveLength(1);
    const [server] = servers;
    expect(server!.Identifier).toBe(RESOURCE_SERVER);
    const defined = server!.Scopes.map(({ ScopeName }) => `${RESOURCE_SERVER}/${ScopeName}`);
    expect([...defined].sort()).toEqual([...SCOPE_VALUES].sort());
  });

  it.each(Object.keys(ADDON_TEMPLATES))(
    'are the only custom scopes clients of the %s addons use',
    (folder) => {
      const template = ADDON_TEMPLATES[folder]!;
      const used: string[] = [];
      for (const [id, client] of resourcesOf(template, 'AWS::Cognito::UserPoolClient')) {
        for (const scope of (client.Properties?.AllowedOAuthScopes ?? []) as string[])
          used.push(`${id}: ${scope}`);
      }
      // Token requests of EventBridge connections (OAuth client credentials) name the scopes they ask for.
      for (const [id, connection] of resourcesOf(template, 'AWS::Events::Connection')) {
        const oauth = (connection.Properties?.AuthParameters as Json | undefined)?.OAuthParameters as
          Json | undefined;
        const body = ((oauth?.OAuthHttpParameters as Json | undefined)?.BodyParameters ?? []) as Json[];
        for (const parameter of body.filter(({ Key }) => Key === 'scope')) {
          for (const scope of String(parameter.Value).split(' ')) used.push(`${id}: ${scope}`);
        }
      }
      const unknown = used.filter((entry) => {
        const scope = entry.slice(entry.indexOf(': ') + 2);
        return scope.includes('/') ? !SCOPE_VALUES.includes(scope) : !COGNITO_SCOPES.includes(scope);
      });
      expect(unknown).toEqual([]);
      if (folder === 'environments') expect(used.length).toBeGreaterThan(0);
    },
  );

  it("are the dev issuer's default machine scopes", () => {
    const scope = accessTokenClaims({}).scope;
    expect(typeof scope).toBe('string');
    const granted = (scope as string).split(' ');
    expect(granted.length).toBeGreaterThan(0);
    expect(granted.filter((name) => !SCOPE_VALUES.includes(name))).toEqual([]);
  });

  it('are the only ones the README, docs/ and copilot/ mention', () => {
    const documents = [
      join(ROOT, 'README.md'),
      ...files(join(ROOT, 'docs'), '.md'),
      ...files(COPILOT, '.yml'),
      ...files(COPILOT, '.yaml'),
    ];
    const stale = documents.flatMap((path) =>
      [...readFileSync(path, 'utf8').matchAll(SCOPE_LIKE)]
        .map(([scope]) => scope)
        .filter((scope) => !SCOPE_VALUES.includes(scope))
        .map((scope) => `${relative(ROOT, path)}: ${scope}`),
    );
    expect(stale).toEqual([]);
  });

  it('would catch a stale name', () => {
    const text = 'scope=runway-api/tasks.write, runway/tasks.read and runway/tasks.admin';
    expect([...text.matchAll(SCOPE_LIKE)].map(([scope]) => scope)).toEqual([
      'runway-api/tasks.write',
      'runway/tasks.read',
      'runway/tasks.admin',
    ]);
  });
});
