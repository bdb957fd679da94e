/**
 * The topic the api's alarms notify (copilot/api/addons/alarms.yml): encrypted with a key CloudWatch may use, and
 * mailed to AlarmEmail.
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

function topicProblems(template: Template, env: Env): string[] {
  const problems: string[] = [];
  const key = (template.Resources.AlarmTopic?.Properties ?? {}).KmsMasterKeyId as
    { Ref?: string } | undefined;
  const keyResource = key?.Ref ? template.Resources[key.Ref] : undefined;
  if (keyResource?.Type !== 'AWS::KMS::Key') {
    problems.push(
      'AlarmTopic must be encrypted with a customer managed key (CloudWatch cannot use alias/aws/sns)',
    );
  } else {
    const policy = apiEvaluator(template, env).resolve(keyResource.Properties?.KeyPolicy);
    const statements = (policy as { Statement: Json[] }).Statement;
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
    it('encrypts the topic with a key CloudWatch may use, and mails AlarmEmail', () => {
      expect(topicProblems(merged, env)).toEqual([]);
    });
  });

  it('catches a broken copy of the topic', () => {
    const managedKey = structuredClone(merged);
    managedKey.Resources.AlarmTopic!.Properties!.KmsMasterKeyId = 'alias/aws/sns';
    expect(topicProblems(managedKey, 'test').join('\n')).toMatch(/customer managed key/);
  });
});
