import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { environmentAddons, environmentResources, type Json } from '../support/cloudformation.js';

/**
 * Sign-in on AWS: the web client can do managed login (authorization code with PKCE) back to the front end's URLs,
 * self sign-up is a choice (off by default), and Cognito's emails go through SES once an identity is given.
 */
const merged = environmentAddons;
const SES_IDENTITY = 'arn:aws:ses:eu-west-1:123456789012:identity/example.com';
const resources = environmentResources;

describe('Cognito sign-in for front ends', () => {
  const stack = resources();
  const web = stack.WebClient!.Properties;

  it('lets the web client use managed login with the authorization code flow, back to the given URLs', () => {
    expect(web).toMatchObject({
      GenerateSecret: false,
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthFlows: ['code'],
      SupportedIdentityProviders: ['COGNITO'],
    });
    expect(web.AllowedOAuthScopes).toEqual(
      expect.arrayContaining(['openid', 'email', 'profile', 'aws.cognito.signin.user.admin']),
    );
    // A public client (no secret) on the code flow: the front end sends a PKCE code challenge (Amplify does).
    expect(web.AllowedOAuthFlows).not.toContain('implicit');
    expect(
      resources({ WebCallbackUrls: 'https://app.example.com/callback' }).WebClient!.Properties,
    ).toMatchObject({
      CallbackURLs: ['https://app.example.com/callback'],
      LogoutURLs: ['http://localhost:5173/'],
    });
    expect(merged.Parameters!.WebCallbackUrls).toMatchObject({ Type: 'CommaDelimitedList' });
    expect(merged.Parameters!.WebLogoutUrls).toMatchObject({ Type: 'CommaDelimitedList' });
  });

  it('serves managed login (version 2) on the user pool domain, branded for the web client', () => {
    const domain = Object.values(stack).find((resource) => resource.Type === 'AWS::Cognito::UserPoolDomain');
    expect(domain?.Properties.ManagedLoginVersion).toBe(2);
    const branding = Object.values(stack).filter(
      (resource) => resource.Type === 'AWS::Cognito::ManagedLoginBranding',
    );
    expect(branding.map(({ Properties }) => Properties)).toEqual([
      { UserPoolId: { Ref: 'UserPool' }, ClientId: { Ref: 'WebClient' }, UseCognitoProvidedValues: true },
    ]);
  });

  it('allows self sign-up only when asked to', () => {
    const allows = (parameters?: Record<string, string>) =>
      !(resources(parameters).UserPool!.Properties.AdminCreateUserConfig as Json).AllowAdminCreateUserOnly;
    expect(merged.Parameters!.SelfSignUp).toMatchObject({
      Default: 'false',
      AllowedValues: ['true', 'false'],
    });
    expect(allows()).toBe(false);
    expect(allows({ SelfSignUp: 'true' })).toBe(true);
  });

  it("sends Cognito's emails through SES when a verified identity is given", () => {
    expect(stack.UserPool!.Properties.EmailConfiguration).toEqual({ EmailSendingAccount: 'COGNITO_DEFAULT' });
    expect(resources({ SesIdentityArn: SES_IDENTITY }).UserPool!.Properties.EmailConfiguration).toEqual({
      EmailSendingAccount: 'DEVELOPER',
      SourceArn: SES_IDENTITY,
    });
    expect(
      resources({ SesIdentityArn: SES_IDENTITY, SesFromAddress: 'Runway <no-reply@example.com>' }).UserPool!
        .Properties.EmailConfiguration,
    ).toEqual({
      EmailSendingAccount: 'DEVELOPER',
      SourceArn: SES_IDENTITY,
      From: 'Runway <no-reply@example.com>',
    });
  });
});

describe("the user's email in access tokens", () => {
  const stack = resources();
  const code = (stack.AccessTokenClaimsFunction!.Properties.Code as { ZipFile: string }).ZipFile;
  const handler = (() => {
    const module = { exports: {} as { handler?: (event: Json) => Promise<Json> } };
    runInNewContext(code, { exports: module.exports, module });
    return module.exports.handler!;
  })();
  /** A pre token generation event (version 2) as Cognito sends it for a user signing in. */
  const event = (userAttributes: Record<string, string>): Json => ({
    version: '2',
    triggerSource: 'TokenGeneration_Authentication',
    userName: '3f0c5a5e-0d7b-4a7e-9d4b-1d2c3e4f5a6b',
    request: { userAttributes, groupConfiguration: { groupsToOverride: [] }, scopes: [] },
    response: { claimsAndScopeOverrideDetails: null },
  });

  it('runs the trigger (event version 2, which reaches access tokens) on the Essentials plan', () => {
    expect(stack.UserPool!.Properties).toMatchObject({
      UserPoolTier: 'ESSENTIALS',
      LambdaConfig: {
        PreTokenGenerationConfig: {
          LambdaArn: { 'Fn::GetAtt': ['AccessTokenClaimsFunction', 'Arn'] },
          LambdaVersion: 'V2_0',
        },
      },
    });
    expect(stack.AccessTokenClaimsPermission!.Properties).toMatchObject({
      Action: 'lambda:InvokeFunction',
      Principal: 'cognito-idp.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': ['UserPool', 'Arn'] },
    });
  });

  it("adds the email attribute to the access token's claims, and nothing else", async () => {
    const signedIn = await handler(event({ sub: 'abc', email: 'alice@example.com', email_verified: 'true' }));
    expect(signedIn.response).toEqual({
      claimsAndScopeOverrideDetails: {
        accessTokenGeneration: { claimsToAddOrOverride: { email: 'alice@example.com' } },
      },
    });
  });

  it('leaves the tokens as they are for a user without an email', async () => {
    expect((await handler(event({ sub: 'abc' }))).response).toEqual({ claimsAndScopeOverrideDetails: null });
  });
});
