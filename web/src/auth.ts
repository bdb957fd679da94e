/**
 * Sign-in with the OAuth 2.0 authorization code flow and PKCE (S256). Tokens stay in this module's memory: a reload
 * signs in again (silently while the identity provider's own session lasts). Only `state` and the code verifier go
 * to sessionStorage, for the length of the redirect.
 */
import { setAnalyticsTimeZone } from './format';

export interface SignInConfig {
  analyticsTimeZone: string;
  clientId: string | null;
  authorizeUrl: string | null;
  tokenUrl: string | null;
  logoutUrl: string | null;
  revokeUrl: string | null;
  scope: string;
}

interface Tokens {
  accessToken: string;
  refreshToken: string | null;
  shownName: string;
}

export type SessionStart =
  | { kind: 'signed-in' }
  | { kind: 'redirecting' }
  | { kind: 'not-configured' }
  | { kind: 'failed'; message: string };

const STATE_KEY = 'runway.signin.state';
const VERIFIER_KEY = 'runway.signin.verifier';
/** Refresh this long before the access token expires; after a failed refresh, try again this much later. */
const REFRESH_MARGIN_SECONDS = 60;
const RETRY_SECONDS = 15;

/** The identity provider refused the code or the refresh token (`invalid_grant`): only a new sign-in helps. */
class TokenRefused extends Error {}

let config: (SignInConfig & { clientId: string; tokenUrl: string }) | null = null;
let tokens: Tokens | null = null;
let refreshTimer: ReturnType<typeof setTimeout> | undefined;
let refreshing: Promise<boolean> | null = null;
let sessionEnded: () => void = () => {};

const redirectUri = () => `${location.origin}/admin/`;

export function onSessionEnded(listener: () => void): void {
  sessionEnded = listener;
}

export function accessToken(): string | null {
  return tokens?.accessToken ?? null;
}

export function signedInAs(): string {
  return tokens?.shownName ?? '';
}

export async function startSession(): Promise<SessionStart> {
  let loaded: SignInConfig;
  try {
    const response = await fetch('/admin/config.json', { cache: 'no-store' });
    if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
    loaded = (await response.json()) as SignInConfig;
  } catch (error) {
    return { kind: 'failed', message: `The sign-in settings could not be loaded (${String(error)}).` };
  }
  setAnalyticsTimeZone(loaded.analyticsTimeZone);
  if (!loaded.clientId || !loaded.authorizeUrl || !loaded.tokenUrl || !loaded.logoutUrl) {
    return { kind: 'not-configured' };
  }
  config = { ...loaded, clientId: loaded.clientId, tokenUrl: loaded.tokenUrl };

  const answer = new URLSearchParams(location.search);
  if (answer.has('code') || answer.has('error')) return finishSignIn(answer);
  await signIn();
  return { kind: 'redirecting' };
}

/** Sends the browser to the identity provider; `route` is where to come back to. */
export async function signIn(route: string = location.hash): Promise<void> {
  if (!config?.authorizeUrl) {
    location.reload();
    return;
  }
  const verifier = randomText(48);
  // The route rides in `state` (the provider returns it untouched), so nothing else needs storing.
  const state = `${randomText(24)}.${route.startsWith('#/') ? route : '#/overview'}`;
  sessionStorage.setItem(STATE_KEY, state);
  sessionStorage.setItem(VERIFIER_KEY, verifier);
  const url = new URL(config.authorizeUrl);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: config.clientId,
    redirect_uri: redirectUri(),
    scope: config.scope,
    state,
    code_challenge: await challengeOf(verifier),
    code_challenge_method: 'S256',
  }).toString();
  // Replace, not push: going back from the sign-in page must not land on a page that sends it there again.
  location.replace(url.toString());
}

export async function signOut(): Promise<void> {
  // The refresh token would mint access tokens for 30 days: revoked first (2 s at most; keepalive if the page goes).
  if (config?.revokeUrl && tokens?.refreshToken) {
    const revoked = fetch(config.revokeUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: tokens.refreshToken, client_id: config.clientId }),
      keepalive: true,
    }).catch(() => undefined);
    await Promise.race([revoked, new Promise((resolve) => setTimeout(resolve, 2_000))]);
  }
  forgetTokens();
  if (!config?.logoutUrl) return;
  const url = new URL(config.logoutUrl);
  url.search = new URLSearchParams({ client_id: config.clientId, logout_uri: redirectUri() }).toString();
  location.assign(url.toString());
}

/** A new access token from the refresh token; shared by concurrent callers. False when the session is over. */
export function refreshTokens(): Promise<boolean> {
  refreshing ??= refresh().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

async function refresh(): Promise<boolean> {
  const refreshToken = tokens?.refreshToken;
  if (!config || !refreshToken) {
    endSession();
    return false;
  }
  try {
    await requestTokens({
      grant_type: 'refresh_token',
      client_id: config.clientId,
      refresh_token: refreshToken,
    });
    return true;
  } catch (failure) {
    // Only a refused refresh token ends the session; a network error or an outage leaves it to the next try.
    if (failure instanceof TokenRefused) endSession();
    else refreshTimer = setTimeout(() => void refreshTokens(), RETRY_SECONDS * 1000);
    return false;
  }
}

function endSession(): void {
  forgetTokens();
  sessionEnded();
}

async function finishSignIn(answer: URLSearchParams): Promise<SessionStart> {
  const expectedState = sessionStorage.getItem(STATE_KEY);
  const verifier = sessionStorage.getItem(VERIFIER_KEY);
  sessionStorage.removeItem(STATE_KEY);
  sessionStorage.removeItem(VERIFIER_KEY);
  const state = answer.get('state');
  const route = state?.slice(state.indexOf('.') + 1) || '#/overview';
  history.replaceState(null, '', `/admin/${route.startsWith('#/') ? route : '#/overview'}`);

  if (!expectedState || !verifier) {
    // No sign-in under way in this tab: an old answer (Back to the identity provider's page, then on). Start one.
    await signIn(location.hash);
    return { kind: 'redirecting' };
  }
  if (state !== expectedState) {
    return { kind: 'failed', message: 'The sign-in answer did not match the request: sign in again.' };
  }
  const error = answer.get('error');
  if (error) {
    return { kind: 'failed', message: `Sign-in failed: ${answer.get('error_description') ?? error}.` };
  }
  try {
    await requestTokens({
      grant_type: 'authorization_code',
      client_id: config!.clientId,
      code: answer.get('code') ?? '',
      redirect_uri: redirectUri(),
      code_verifier: verifier,
    });
    return { kind: 'signed-in' };
  } catch (failure) {
    return { kind: 'failed', message: `Sign-in failed: ${failure instanceof Error ? failure.message : ''}` };
  }
}

async function requestTokens(form: Record<string, string>): Promise<void> {
  const response = await fetch(config!.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  const body = (await response.json().catch(() => ({}))) as {
    access_token?: string;
    refresh_token?: string;
    expires_in?: number;
    error?: string;
    error_description?: string;
  };
  if (!response.ok || typeof body.access_token !== 'string') {
    const message = body.error_description ?? body.error ?? `the token endpoint answered ${response.status}`;
    throw body.error === 'invalid_grant' ? new TokenRefused(message) : new Error(message);
  }
  tokens = {
    accessToken: body.access_token,
    refreshToken: body.refresh_token ?? tokens?.refreshToken ?? null,
    shownName: shownNameOf(body.access_token),
  };
  clearTimeout(refreshTimer);
  const seconds = Math.max((body.expires_in ?? 3600) - REFRESH_MARGIN_SECONDS, 10);
  refreshTimer = setTimeout(() => void refreshTokens(), seconds * 1000);
}

function forgetTokens(): void {
  tokens = null;
  clearTimeout(refreshTimer);
}

/** Who is signed in, as people know themselves: their email (Cognito's username is the `sub` with sign-in by email). */
function shownNameOf(jwt: string): string {
  try {
    const payload = jwt.split('.')[1] ?? '';
    const binary = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const json = new TextDecoder().decode(Uint8Array.from(binary, (char) => char.charCodeAt(0)));
    const claims = JSON.parse(json) as { email?: string; username?: string; sub?: string };
    return claims.email ?? claims.username ?? claims.sub ?? '';
  } catch {
    return '';
  }
}

function randomText(bytes: number): string {
  return base64Url(crypto.getRandomValues(new Uint8Array(bytes)));
}

async function challengeOf(verifier: string): Promise<string> {
  return base64Url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
}

function base64Url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}
