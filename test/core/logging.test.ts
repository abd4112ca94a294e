import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger, redact, redactUrl, withReportKeys } from '../../lambdas/core/logging.ts';

/** JSON lines written by Powertools (it writes to stdout/stderr, not the global console). */
function captureLines() {
  const lines: string[] = [];
  const capture = (chunk: unknown) => {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    return true;
  };
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  return {
    records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
    restore() {
      out.mockRestore();
      err.mockRestore();
    },
  };
}

beforeEach(() => {
  vi.stubEnv('POWERTOOLS_DEV', 'false');
  vi.stubEnv('AWS_LAMBDA_LOG_LEVEL', '');
});

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('createLogger', () => {
  it('writes JSON lines with the service name', () => {
    // Prepare
    const capture = captureLines();

    // Act
    try {
      createLogger('archive-report').info('archived', { rows: 3 });
    } finally {
      capture.restore();
    }

    // Assess
    expect(capture.records()).toEqual([
      expect.objectContaining({ level: 'INFO', message: 'archived', service: 'archive-report', rows: 3 }),
    ]);
  });

  it('honours POWERTOOLS_LOG_LEVEL', () => {
    // Prepare
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'ERROR');
    const capture = captureLines();

    // Act
    const logger = createLogger('archive-report');
    try {
      logger.info('hidden');
      logger.error('shown');
    } finally {
      capture.restore();
    }

    // Assess
    expect(logger.getLevelName()).toBe('ERROR');
    expect(capture.records().map((r) => r.message)).toEqual(['shown']);
  });
});

describe('withReportKeys', () => {
  it('adds the correlation keys and drops the ones a later unit of work leaves out', () => {
    // Prepare
    const logger = createLogger('check-job');
    const capture = captureLines();

    // Act
    try {
      withReportKeys(logger, {
        vendor: 'okta',
        tenant: 'acme',
        report: 'users',
        date: '2025-03-03',
        executionId: 'e1',
      }).info('first');
      withReportKeys(logger, { vendor: 'okta', tenant: 'globex', report: 'users', executionId: 'e2' }).info('second');
    } finally {
      capture.restore();
    }

    // Assess
    const [first, second] = capture.records();
    expect(first).toMatchObject({
      vendor: 'okta',
      tenant: 'acme',
      report: 'users',
      date: '2025-03-03',
      executionId: 'e1',
    });
    expect(second).toMatchObject({ tenant: 'globex', executionId: 'e2' });
    expect(second).not.toHaveProperty('date');
  });
});

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
