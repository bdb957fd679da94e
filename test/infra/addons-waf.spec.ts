import { describe, expect, it } from 'vitest';
import { addonParameters } from '../../tools/deploy/addons.js';
import { ENVIRONMENT_ADDONS, environmentResources, type Json } from '../support/cloudformation.js';

/** AWS WAF on the public load balancer: a rate limit per IP and AWS's managed common rule set. */
const ALB =
  'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/runway-prod/0123456789abcdef';
const resources = environmentResources;

describe('the web application firewall', () => {
  const acl = resources().WebAcl!;
  const rules = acl.Properties.Rules as Json[];

  it('is a regional web ACL that allows by default', () => {
    expect(acl.Type).toBe('AWS::WAFv2::WebACL');
    expect(acl.Properties).toMatchObject({ Scope: 'REGIONAL', DefaultAction: { Allow: {} } });
  });

  it('blocks an IP over its rate (5-minute window) with 429, before anything else', () => {
    const rate = rules.find((rule) => (rule.Statement as Json).RateBasedStatement)!;
    expect(rate).toMatchObject({
      Priority: 0,
      Action: {
        Block: { CustomResponse: { ResponseCode: 429, CustomResponseBodyKey: 'too-many-requests' } },
      },
      Statement: { RateBasedStatement: { AggregateKeyType: 'IP', EvaluationWindowSec: 300, Limit: 3000 } },
    });
    const body = (
      acl.Properties.CustomResponseBodies as Record<string, { ContentType: string; Content: string }>
    )['too-many-requests']!;
    expect(body.ContentType).toBe('APPLICATION_JSON');
    expect(JSON.parse(body.Content)).toMatchObject({
      type: 'about:blank',
      title: 'Too Many Requests',
      status: 429,
    });
  });

  it("applies AWS's managed common rule set, and blocks what it matched with a problem body, body size aside", () => {
    const common = rules.find((rule) => (rule.Statement as Json).ManagedRuleGroupStatement)!;
    expect(common).toMatchObject({
      Priority: 1,
      OverrideAction: { Count: {} },
      Statement: { ManagedRuleGroupStatement: { VendorName: 'AWS', Name: 'AWSManagedRulesCommonRuleSet' } },
    });
    const block = rules.find((rule) => rule.Name === 'aws-common-rule-set-block')!;
    expect(block).toMatchObject({
      Priority: 2,
      Action: { Block: { CustomResponse: { ResponseCode: 403, CustomResponseBodyKey: 'refused' } } },
      Statement: {
        AndStatement: {
          Statements: [
            { LabelMatchStatement: { Scope: 'NAMESPACE', Key: 'awswaf:managed:aws:core-rule-set:' } },
            {
              NotStatement: {
                Statement: {
                  LabelMatchStatement: {
                    Scope: 'LABEL',
                    Key: 'awswaf:managed:aws:core-rule-set:SizeRestrictions_Body',
                  },
                },
              },
            },
          ],
        },
      },
    });
    const body = (
      acl.Properties.CustomResponseBodies as Record<string, { ContentType: string; Content: string }>
    ).refused!;
    expect(body.ContentType).toBe('APPLICATION_JSON');
    expect(JSON.parse(body.Content)).toMatchObject({ type: 'about:blank', title: 'Forbidden', status: 403 });
  });

  it("guards prod; other environments only with WafOutsideProd: 'true'", () => {
    expect(resources({ PublicLoadBalancerArn: ALB }, 'test').WebAcl).toBeUndefined();
    expect(resources({ PublicLoadBalancerArn: ALB }, 'test').WebAclAssociation).toBeUndefined();
    const everywhere = resources({ PublicLoadBalancerArn: ALB, WafOutsideProd: 'true' }, 'test');
    expect(everywhere.WebAcl!.Type).toBe('AWS::WAFv2::WebACL');
    expect(everywhere.WebAclAssociation!.Properties.ResourceArn).toBe(ALB);
  });

  it('attaches to the public load balancer once there is one, as the parameters file passes it', () => {
    expect(resources().WebAclAssociation).toBeUndefined();
    expect(resources({ PublicLoadBalancerArn: ALB }).WebAclAssociation!.Properties).toEqual({
      ResourceArn: ALB,
      WebACLArn: { 'Fn::GetAtt': ['WebAcl', 'Arn'] },
    });
    expect(addonParameters(ENVIRONMENT_ADDONS).PublicLoadBalancerArn).toEqual({
      'Fn::If': ['CreateALB', { Ref: 'PublicLoadBalancer' }, ''],
    });
  });
});
