import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { type JWTPayload, SignJWT } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { adminRestApiUrl, type RsaSimulator, startRsaSimulator } from '../../../simulators/rsa/server.ts';
import { type Clock, fakeClock } from './helpers.ts';

const PATH = '/AdminInterface/restapi/v1/report';

interface TokenOptions {
  sub?: string;
  aud?: string;
  iat?: number | string;
  exp?: number | string;
  key?: Parameters<SignJWT['sign']>[0];
  alg?: 'RS256' | 'RS512' | 'HS256';
}

describe('RSA simulator', () => {
  let sim: RsaSimulator;
  let clock: Clock;

  beforeAll(async () => {
    clock = fakeClock();
    sim = await startRsaSimulator({ now: clock.now, readyAfterMs: 5_000, rows: { users: 7 } });
  });
  afterAll(() => sim.close());
  beforeEach(() => {
    sim.reset();
    sim.options.mfaTrackingOff = false;
    sim.options.errorBody = 'json';
    sim.options.generateWindowScope = 'report';
  });

  const acme = () => sim.tenants.find((t) => t.id === 'acme')!;

  async function token(options: TokenOptions = {}): Promise<string> {
    const file = acme().keyFile;
    const iat = options.iat ?? Math.floor(clock.now() / 1000);
    // the docs' example quotes iat and exp as strings, which JWTPayload does not allow
    const claims = {
      sub: options.sub ?? file.accessID,
      aud: options.aud ?? file.adminRestApiUrl,
      iat,
      exp: options.exp ?? (typeof iat === 'number' ? iat + 3300 : iat),
    } as unknown as JWTPayload;
    const jwt = new SignJWT(claims).setProtectedHeader({ alg: options.alg ?? 'RS256', typ: 'JWT' });
    return jwt.sign(options.key ?? createPrivateKey(file.accessKey));
  }

  async function call(method: string, path: string, jwt?: string) {
    const response = await fetch(`${sim.baseUrl}${PATH}/${path}`, {
      method,
      headers: jwt ? { authorization: `Bearer ${jwt}` } : {},
    });
    return { status: response.status, headers: response.headers, bytes: Buffer.from(await response.arrayBuffer()) };
  }

  describe('key file', () => {
    it('holds the five fields, a PKCS#1 key and the simulator URL ending in /v1', () => {
      // Assess
      const file = acme().keyFile;
      expect(Object.keys(file).sort()).toEqual([
        'accessID',
        'accessKey',
        'adminRestApiUrl',
        'customerName',
        'description',
      ]);
      expect(file.accessKey).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n/);
      expect(file.adminRestApiUrl).toBe(`${sim.baseUrl}/AdminInterface/restapi/v1`);
    });

    it('writes adminRestApiUrl in each documented style', () => {
      // Act / Assess
      expect(adminRestApiUrl('https://x', 'v1')).toBe('https://x/AdminInterface/restapi/v1');
      expect(adminRestApiUrl('https://x', 'v1/')).toBe('https://x/AdminInterface/restapi/v1/');
      expect(adminRestApiUrl('https://x', 'base')).toBe('https://x/AdminInterface/restapi');
      expect(adminRestApiUrl('https://x', 'base/')).toBe('https://x/AdminInterface/restapi/');
    });
  });

  describe('JWT verification', () => {
    it('accepts a valid token and records its claims', async () => {
      // Act
      const { status } = await call('POST', 'users/generate', await token());

      // Assess
      expect(status).toBe(201);
      expect(sim.requests[0]).toMatchObject({
        method: 'POST',
        status: 201,
        tenant: 'acme',
        report: 'users',
        jwtHeader: { alg: 'RS256' },
        claims: { sub: acme().keyFile.accessID, aud: acme().keyFile.adminRestApiUrl },
      });
      expect(JSON.stringify(sim.requests[0]?.headers)).not.toMatch(/bearer/i);
    });

    it('accepts the docs\u2019 string-typed iat and exp', async () => {
      // Prepare
      const iat = Math.floor(clock.now() / 1000);

      // Act / Assess
      expect(
        (await call('POST', 'users/generate', await token({ iat: String(iat), exp: String(iat + 600) }))).status,
      ).toBe(201);
    });

    it.each([
      ['no token', async () => undefined, 'no bearer JWT'],
      [
        'another key',
        async () => token({ key: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey }),
        'bad signature',
      ],
      [
        'HS256',
        async () => token({ alg: 'HS256', key: new TextEncoder().encode('x'.repeat(32)) }),
        'alg HS256 is not RS256',
      ],
      ['RS512', async () => token({ alg: 'RS512' }), 'alg RS512 is not RS256'],
      ['an unknown sub', async () => token({ sub: 'someone-else' }), 'sub is not a known accessID'],
      [
        'aud without /v1',
        async () => token({ aud: `${sim.baseUrl}/AdminInterface/restapi` }),
        'aud is not the adminRestApiUrl',
      ],
      [
        'aud with a trailing /',
        async () => token({ aud: `${sim.baseUrl}/AdminInterface/restapi/v1/` }),
        'aud is not the adminRestApiUrl',
      ],
      [
        'a lifetime over 1 hour + skew',
        async () => token({ exp: Math.floor(clock.now() / 1000) + 3661 }),
        'lifetime too long',
      ],
      [
        'an expired token',
        async () => token({ iat: Math.floor(clock.now() / 1000) - 3000, exp: Math.floor(clock.now() / 1000) - 61 }),
        'expired',
      ],
      [
        'a token from the future',
        async () => token({ iat: Math.floor(clock.now() / 1000) + 120 }),
        'issued in the future',
      ],
    ])('refuses %s with 403', async (_label, make, reason) => {
      // Act
      const { status, bytes } = await call('POST', 'users/generate', await make());

      // Assess
      expect(status).toBe(403);
      expect(JSON.parse(bytes.toString()).message).toBe('Not authorized to access this report.');
      expect(sim.requests.at(-1)?.authFailure).toBe(reason);
    });

    it('accepts a lifetime of exactly 1 hour + 60 s skew', async () => {
      // Act / Assess
      expect(
        (await call('POST', 'users/generate', await token({ exp: Math.floor(clock.now() / 1000) + 3660 }))).status,
      ).toBe(201);
    });
  });

  describe('generate then download', () => {
    it('follows 404 → 201 → 425 → 200 → 429 (15 minutes per tenant) → 200', async () => {
      // Act / Assess
      expect((await call('GET', 'users/download', await token())).status).toBe(404);
      expect((await call('POST', 'users/generate', await token())).status).toBe(201);
      expect((await call('GET', 'users/download', await token())).status).toBe(425);
      clock.advance(5_000);
      const ok = await call('GET', 'users/download', await token());
      expect(ok.status).toBe(200);
      expect(ok.headers.get('content-type')).toBe('application/octet-stream');
      expect(ok.headers.get('content-disposition')).toBe('attachment; filename="all_users_report.csv"');
      expect(ok.bytes.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
      expect(ok.bytes.toString('utf8')).toContain('\r\n');
      // another report of the same tenant shares the 15-minute download window
      expect((await call('POST', 'hardware_tokens/generate', await token())).status).toBe(201);
      clock.advance(5_000);
      expect((await call('GET', 'hardware_tokens/download', await token())).status).toBe(429);
      clock.advance(15 * 60_000);
      expect((await call('GET', 'hardware_tokens/download', await token())).status).toBe(200);
    });

    it('answers 429 to a second generate within 8 hours, per report by default', async () => {
      // Act / Assess
      expect((await call('POST', 'users/generate', await token())).status).toBe(201);
      clock.advance(8 * 3_600_000 - 1_000);
      expect((await call('POST', 'users/generate', await token())).status).toBe(429);
      expect((await call('POST', 'mfa_clients/generate', await token())).status).toBe(201);
      clock.advance(2_000);
      expect((await call('POST', 'users/generate', await token())).status).toBe(201);
    });

    it('shares the 8-hour window across reports when the scope is the tenant', async () => {
      // Prepare
      sim.options.generateWindowScope = 'tenant';

      // Act / Assess
      expect((await call('POST', 'users/generate', await token())).status).toBe(201);
      expect((await call('POST', 'mfa_clients/generate', await token())).status).toBe(429);
    });

    it('answers 403 "MFA tracking is turned off." when switched, as JSON or text', async () => {
      // Prepare
      sim.options.mfaTrackingOff = true;

      // Act
      const json = await call('POST', 'users/generate', await token());
      sim.options.errorBody = 'text';
      const text = await call('GET', 'users/download', await token());

      // Assess
      expect(json.status).toBe(403);
      expect(JSON.parse(json.bytes.toString()).message).toBe('MFA tracking is turned off.');
      expect(text.status).toBe(403);
      expect(text.bytes.toString()).toBe('MFA tracking is turned off.');
    });
  });

  describe('generate-and-download', () => {
    it('answers 200 text/csv, then 429 within 8 hours', async () => {
      // Act
      const first = await call('GET', 'admin_users/generate-and-download', await token());
      const second = await call('GET', 'admin_users/generate-and-download', await token());

      // Assess
      expect(first.status).toBe(200);
      expect(first.headers.get('content-type')).toBe('text/csv;charset=UTF-8');
      expect(second.status).toBe(429);
    });

    it('answers 404 for a generate-then-download report and the other way round', async () => {
      // Act / Assess
      expect((await call('GET', 'users/generate-and-download', await token())).status).toBe(404);
      expect((await call('POST', 'admin_users/generate', await token())).status).toBe(404);
      expect((await call('POST', 'audit_log/generate', await token())).status).toBe(404);
    });
  });

  it('serves gzip when switched', async () => {
    // Prepare
    sim.options.downloadEncoding = 'gzip';
    await call('POST', 'users/generate', await token());
    clock.advance(5_000);

    // Act
    const { status, bytes } = await call('GET', 'users/download', await token());
    sim.options.downloadEncoding = 'csv';

    // Assess
    expect(status).toBe(200);
    expect(gunzipSync(bytes).toString('utf8')).toMatch(/^\uFEFFEmail,Username,/);
  });
});
