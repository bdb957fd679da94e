/**
 * The topic the api's alarms notify (copilot/api/addons/alarms.yml): mailed to AlarmEmail and never under a key
 * CloudWatch cannot use. Prod encrypts it with a customer managed key; test, to save that key, leaves it unencrypted.
 */
import { describe, expect, it } from 'vitest';
import type { Template } from '../../tools/deploy/addons.js';
import {
  apiEvaluator,
  ENVIRONMENTS,
  loadApiAddons,
  resourcesOf,
  sameJson,
  type Env,
  type Json,
} from '../support/cloudformation.js';

/** Whether the topic must be encrypted with a customer managed key in each environment. */
const ENCRYPTED: Record<Env, boolean> = { test: false, prod: true };

function topicProblems(template: Template, env: Env): string[] {
  const problems: string[] = [];
  const { Resources: resources } = apiEvaluator(template, env).instantiate();
  const key = (resources.AlarmTopic?.Properties ?? {}).KmsMasterKeyId as
    { Ref?: string } | string | undefined;
  const keyResource = typeof key === 'object' && key.Ref ? resources[key.Ref] : undefined;
  const keys = Object.values(resources).filter((resource) => resource.Type === 'AWS::KMS::Key');
  if (!ENCRYPTED[env]) {
    // The AWS managed key would make every alarm action fail silently: no encryption rather than that one.
    if (key !== undefined)
      problems.push(`AlarmTopic must stay unencrypted in ${env}, not under ${JSON.stringify(key)}`);
    if (keys.length > 0) problems.push(`${env} has no customer managed key to pay for`);
  } else if (keyResource?.Type !== 'AWS::KMS::Key') {
    problems.push(
      'AlarmTopic must be encrypted with a customer managed key (CloudWatch cannot use alias/aws/sns)',
    );
  } else {
    const statements = (keyResource.Properties?.KeyPolicy as { Statement: Json[] }).Statement;
    const forCloudWatch = statements.find(
      (s) =>
        s.Effect === 'Allow' && (s.Principal as Json | undefined)?.Service === 'cloudwatch.amazonaws.com',
    );
    const actions = [forCloudWatch?.Action].flat();
    if (!actions.includes('kms:Decrypt') || !actions.includes('kms:GenerateDataKey*')) {
      problems.push('the topic key must let cloudwatch.amazonaws.com Decrypt and GenerateDataKey*');
    }
  }
  const subscriptions = resourcesOf(template, 'AWS::SNS::Subscription').map(([, s]) => s.Properties ?? {});
  if (
    !subscriptions.some(
      (s) =>
        s.Protocol === 'email' &&
        sameJson(s.Endpoint, { Ref: 'AlarmEmail' }) &&
        sameJson(s.TopicArn, { Ref: 'AlarmTopic' }),
    )
  ) {
    problems.push('AlarmTopic needs an email subscription to AlarmEmail');
  }
  return problems;
}

const { merged } = loadApiAddons();

describe('api alarm topic', () => {
  describe.each(ENVIRONMENTS)('in %s', (env) => {
    it(`is ${ENCRYPTED[env] ? 'encrypted with a key CloudWatch may use' : 'unencrypted, with no key to pay for'}, and mails AlarmEmail`, () => {
      expect(topicProblems(merged, env)).toEqual([]);
    });
  });

  it('catches a broken copy of the topic', () => {
    const managedKey = structuredClone(merged);
    managedKey.Resources.AlarmTopic!.Properties!.KmsMasterKeyId = 'alias/aws/sns';
    expect(topicProblems(managedKey, 'prod').join('\n')).toMatch(/customer managed key/);
    expect(topicProblems(managedKey, 'test').join('\n')).toMatch(/must stay unencrypted in test/);
    const keyEverywhere = structuredClone(merged);
    delete keyEverywhere.Resources.AlarmTopicKey!.Condition;
    expect(topicProblems(keyEverywhere, 'test')).toEqual(['test has no customer managed key to pay for']);
  });
});
