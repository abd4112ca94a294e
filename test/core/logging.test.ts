import { describe, expect, it } from 'vitest';
import { redact, redactUrl } from '../../lambdas/core/logging.ts';

describe('redact', () => {
  it('replaces each secret, also in its URL-encoded form', () => {
    expect(redact('key a+b/c= then a%2Bb%2Fc%3D', ['a+b/c='])).toBe('key [redacted] then [redacted]');
  });

  it('replaces the longer of two overlapping secrets whole', () => {
    expect(redact('token abcdef', ['abc', 'abcdef'])).toBe('token [redacted]');
  });

  it('ignores empty secrets', () => {
    expect(redact('unchanged', [''])).toBe('unchanged');
  });

  it('reduces URLs in text to scheme, host and path', () => {
    expect(redact('see https://u:p@files.example.com/a.zip?X-Amz-Signature=abc#x, then retry')).toBe(
      'see https://files.example.com/a.zip, then retry',
    );
  });

  it('masks bearer tokens and credential members of JSON', () => {
    expect(redact('Authorization: Bearer eyJ.abc.def {"access_token":"t1","scope":"read","password":"p\\"w"}')).toBe(
      'Authorization: Bearer [redacted] {"access_token":"[redacted]","scope":"read","password":"[redacted]"}',
    );
  });
});

describe('redact, as vendors echo secrets back', () => {
  it('replaces a secret in its form-encoded and JSON-escaped forms', () => {
    const secret = 'Ab1~cd2!ef3*gh4 ij5"k';
    const form = new URLSearchParams({ client_id: 'app', client_secret: secret }).toString(); // %7E, %21, +
    expect(redact(`invalid_client: could not parse ${form}`, [secret])).toBe(
      'invalid_client: could not parse client_id=app&client_secret=[redacted]',
    );
    expect(redact(`{"detail":"bad ${JSON.stringify(secret).slice(1, -1)}"}`, [secret])).toBe(
      '{"detail":"bad [redacted]"}',
    );
  });

  it('reduces JSON-escaped URLs too', () => {
    expect(redact('{"link":"https:\\/\\/bucket.s3.amazonaws.com\\/r.csv?X-Amz-Signature=deadbeef"}')).toBe(
      '{"link":"https://bucket.s3.amazonaws.com/r.csv"}',
    );
  });

  it('masks credential members whatever their case, and credential pairs of form-encoded text', () => {
    expect(redact('{"error":"bad","accessToken":"eyJ.x","clientSecret":"s3","X-Api-Key":"k","note":"ok"}')).toBe(
      '{"error":"bad","accessToken":"[redacted]","clientSecret":"[redacted]","X-Api-Key":"[redacted]","note":"ok"}',
    );
    expect(redact('access_token=gho_SECRET123&scope=read&token_type=bearer')).toBe(
      'access_token=[redacted]&scope=read&token_type=[redacted]',
    );
  });
});

describe('redactUrl', () => {
  it('keeps scheme, host, port and path only', () => {
    expect(redactUrl(new URL('https://user:pw@files.example.com:8443/a/b.zip?sig=s#frag'))).toBe(
      'https://files.example.com:8443/a/b.zip',
    );
  });

  it('cuts an unparseable URL at the query and drops userinfo', () => {
    expect(redactUrl('//user:pw@host/path?token=abc')).toBe('//host/path');
    expect(redactUrl('ftp+x://user:pw@host/path?token=abc')).toBe('ftp+x://host/path');
  });
});
