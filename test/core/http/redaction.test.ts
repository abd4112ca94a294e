import { describe, expect, it } from 'vitest';
import { ERROR_SNIPPET_CHARS, errorSnippet, redactUrl } from '../../../lambdas/core/http/index.ts';

describe('redactUrl', () => {
  it('reduces a URL to origin and path', () => {
    expect(redactUrl('https://user:pw@files.example.com:8443/a/b.zip?X-Amz-Signature=s#frag')).toBe(
      'https://files.example.com:8443/a/b.zip',
    );
    expect(redactUrl('not a url?token=abc')).toBe('not a url');
  });
});

describe('errorSnippet', () => {
  it('redacts the secrets, then cuts to 300 characters by default', () => {
    // Prepare: the token sits across the 300th character, so cutting first would keep its head
    const token = 'tok-4e5f6a7b8c9d';
    const body = `${'x'.repeat(295)}${token} and more`;

    // Act
    const snippet = errorSnippet(body, [token]);

    // Assess
    expect(snippet).toBe(`${'x'.repeat(295)}[reda…`);
    expect(snippet).toHaveLength(ERROR_SNIPPET_CHARS + 1);
    expect(snippet).not.toContain('tok-');
  });

  it('puts the body on one line and keeps a short one whole', () => {
    expect(errorSnippet('  {"error":\n\t"invalid_grant"}\r\n', [])).toBe('{"error": "invalid_grant"}');
  });

  it('cuts to the given length', () => {
    expect(errorSnippet('abcdefgh', [], 5)).toBe('abcde…');
    expect(errorSnippet('abcde', [], 5)).toBe('abcde');
  });

  it('redacts what logging.redact redacts without being told: credential members, query strings', () => {
    // Act
    const snippet = errorSnippet('{"access_token":"gho_T0KEN"} see https://b.example.com/r.csv?sig=abc');

    // Assess
    expect(snippet).toBe('{"access_token":"[redacted]"} see https://b.example.com/r.csv');
  });

  it('is empty for a blank body', () => {
    expect(errorSnippet(' \n ', ['s3cret'])).toBe('');
  });

  it('drops the tail of a partial body, where the head of a secret may sit', () => {
    // Prepare: the body was cut after the first half of the token
    const token = 'tok-9f8e7d6c5b4a';
    const body = `invalid key ${token.slice(0, 8)}`;

    // Act
    const snippet = errorSnippet(body, [token], ERROR_SNIPPET_CHARS, { partial: true });

    // Assess
    expect(snippet).toBe('inva');
    expect(errorSnippet(body, [token])).toBe(body);
  });
});
