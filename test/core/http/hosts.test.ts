import { describe, expect, it } from 'vitest';
import { isAllowedHost } from '../../../lambdas/core/http/index.ts';

describe('isAllowedHost', () => {
  it('matches exact hosts, ports and subdomain wildcards', () => {
    expect(isAllowedHost('https://api.example.com/x', ['api.example.com'])).toBe(true);
    expect(isAllowedHost('https://API.example.com:443/x', ['api.example.com'])).toBe(true);
    expect(isAllowedHost('https://api.example.com:8443/x', ['api.example.com'])).toBe(false);
    expect(isAllowedHost('https://api.example.com:8443/x', ['api.example.com:8443'])).toBe(true);
    expect(isAllowedHost('https://eu.files.example.com/x', ['*.example.com'])).toBe(true);
    expect(isAllowedHost('https://example.com/x', ['*.example.com'])).toBe(false);
    expect(isAllowedHost('https://evilexample.com/x', ['*.example.com'])).toBe(false);
    expect(isAllowedHost('https://api.example.com.evil.net/x', ['api.example.com'])).toBe(false);
  });
});
