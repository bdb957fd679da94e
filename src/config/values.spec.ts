import { describe, expect, it } from 'vitest';
import { ENVIRONMENT } from './environment.js';

const accepts = (variable: keyof typeof ENVIRONMENT, value: string) => {
  const parsed = ENVIRONMENT[variable].safeParse(value);
  return parsed.success ? parsed.data : undefined;
};

describe('values of variables', () => {
  it('takes a PUBLIC_BASE_URL that emailed links can start with, and nothing they would go wrong under', () => {
    expect(accepts('PUBLIC_BASE_URL', 'https://api.example.com/')).toBe('https://api.example.com');
    expect(accepts('PUBLIC_BASE_URL', 'https://example.com/api/')).toBe('https://example.com/api');
    expect(accepts('PUBLIC_BASE_URL', 'HTTPS://API.example.com:8443')).toBe('https://api.example.com:8443');
    for (const value of [
      'https://api.example.com?utm=1',
      'https://api.example.com/#x',
      'https://user:pw@api.example.com',
      'https:api.example.com',
      'ftp://api.example.com',
    ]) {
      expect(accepts('PUBLIC_BASE_URL', value)).toBeUndefined();
    }
  });

  it('takes a HOST that is an IP address or a host name', () => {
    for (const host of ['0.0.0.0', '::', '::1', '127.0.0.1', 'localhost', 'api.internal']) {
      expect(accepts('HOST', host)).toBe(host);
    }
    for (const host of ['not a host', 'http://localhost', 'localhost:3000', '-bad', '[::1]']) {
      expect(accepts('HOST', host)).toBeUndefined();
    }
  });

  it('refuses a wildcard in CORS_ORIGINS, which would match no origin', () => {
    expect(accepts('CORS_ORIGINS', 'https://app.example.com, https://*.example.com')).toBeUndefined();
    expect(accepts('CORS_ORIGINS', 'https://app.example.com')).toEqual(['https://app.example.com']);
  });
});
