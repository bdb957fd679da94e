import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/process.js';

/** Dependency updates arrive grouped, pinned and tested (renovate.json; docs/development.md, "Dependency updates"). */
interface PackageRule {
  groupName?: string;
  matchPackageNames?: string[];
  matchDatasources?: string[];
  matchUpdateTypes?: string[];
  dependencyDashboardApproval?: boolean;
  allowedVersions?: string;
}

const renovate = JSON.parse(readFileSync(join(ROOT, 'renovate.json'), 'utf8')) as {
  rangeStrategy: string;
  packageRules: PackageRule[];
  dockerfile?: { pinDigests?: boolean };
};
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const packages = [...Object.keys(manifest.dependencies), ...Object.keys(manifest.devDependencies)];

/** Renovate's glob (`@nestjs/**`) or exact name. */
const matches = (pattern: string, name: string) =>
  pattern.endsWith('/**') ? name.startsWith(pattern.slice(0, -2)) : pattern === name;
const groupOf = (name: string) =>
  renovate.packageRules.find(
    (rule) => rule.groupName && rule.matchPackageNames?.some((pattern) => matches(pattern, name)),
  )?.groupName;

describe('renovate.json', () => {
  it.each([
    ['NestJS', '@nestjs/'],
    ['OpenTelemetry', '@opentelemetry/'],
    ['AWS SDK', '@aws-sdk/'],
  ])('groups every %s package in one update', (group, prefix) => {
    const family = packages.filter((name) => name.startsWith(prefix));
    expect(family.length).toBeGreaterThan(0);
    expect(family.map(groupOf)).toEqual(family.map(() => group));
  });

  it('pins exact versions, and the Docker base image by digest', () => {
    expect(renovate.rangeStrategy).toBe('pin');
    expect(renovate.dockerfile?.pinDigests).toBe(true);
    expect(Object.values({ ...manifest.dependencies, ...manifest.devDependencies })).not.toEqual(
      expect.arrayContaining([expect.stringMatching(/^[~^]/)]),
    );
    // Renovate reads the base image from the ARG default of the Dockerfile.
    const base = /^ARG NODE_IMAGE=(\S+)$/m.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))?.[1];
    const [image] = base!.split(':');
    const node = renovate.packageRules.find((rule) => rule.matchPackageNames?.includes(image!));
    expect(base).toMatch(/^public\.ecr\.aws\/docker\/library\/node:24\./);
    expect(node?.allowedVersions).toBe('/^24\\./');
  });

  it('waits for an approval before a major version', () => {
    expect(renovate.packageRules).toContainEqual(
      expect.objectContaining({ matchUpdateTypes: ['major'], dependencyDashboardApproval: true }),
    );
  });
});
