/** The simulator itself, probed over HTTP: what the connector tests rely on it to do. */
import { afterEach, describe, expect, it } from 'vitest';
import { generateRows } from '../../../simulators/pingone/data.ts';
import {
  MFA_REPORT_TEMPLATE_ID,
  type PingOneSimulator,
  type PingOneSimulatorOptions,
  startPingOneSimulator,
} from '../../../simulators/pingone/server.ts';
import { unzipText } from './helpers.ts';

let sim: PingOneSimulator | undefined;

afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function start(options: PingOneSimulatorOptions = {}): Promise<PingOneSimulator> {
  sim = await startPingOneSimulator({ rateLimitWindowMs: 0, rowsPerEnvironment: 40, ...options });
  return sim;
}

function envOf(s: PingOneSimulator, index = 0) {
  const env = s.environments[index];
  if (!env) throw new Error('no environment');
  return env;
}

async function token(s: PingOneSimulator, index = 0): Promise<string> {
  const env = envOf(s, index);
  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (env.tokenAuthMethod === 'client_secret_post') {
    form.set('client_id', env.clientId);
    form.set('client_secret', env.clientSecret);
  } else {
    headers.authorization = `Basic ${Buffer.from(`${env.clientId}:${env.clientSecret}`).toString('base64')}`;
  }
  const response = await fetch(`${s.authUrl}/${env.id}/as/token`, { method: 'POST', headers, body: form });
  const body = (await response.json()) as { access_token: string };
  return body.access_token;
}

async function api(s: PingOneSimulator, path: string, init: { method?: string; json?: unknown; token: string }) {
  const response = await fetch(`${s.baseUrl}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      authorization: `Bearer ${init.token}`,
      ...(init.json !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

function createBody(extra: Record<string, unknown> = {}) {
  return { dataExplorationTemplate: { id: MFA_REPORT_TEMPLATE_ID }, deliverAs: 'ASYNC_FILE', ...extra };
}

describe('simulator: token endpoint', () => {
  it('issues tokens for client_secret_basic and client_secret_post', async () => {
    // Prepare
    const s = await start();
    // Act
    const basic = await token(s, 0);
    const post = await token(s, 1);
    // Assess
    expect(basic.length).toBeGreaterThan(20);
    expect(post.length).toBeGreaterThan(20);
    expect(s.requests.filter((r) => r.route === 'token').map((r) => r.status)).toEqual([200, 200]);
    expect(JSON.stringify(s.requests)).not.toContain(envOf(s, 1).clientSecret);
  });

  it('answers 401 ACCESS_FAILED for a wrong secret or the other auth method', async () => {
    // Prepare
    const s = await start();
    const env = envOf(s, 0);
    // Act
    const wrong = await fetch(`${s.authUrl}/${env.id}/as/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${env.clientId}:nope`).toString('base64')}`,
      },
      body: 'grant_type=client_credentials',
    });
    const otherMethod = await fetch(`${s.authUrl}/${env.id}/as/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: env.clientId,
        client_secret: env.clientSecret,
      }),
    });
    // Assess
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ code: 'ACCESS_FAILED' });
    expect(otherMethod.status).toBe(401);
  });

  it('accepts either method when enforceTokenAuthMethod is off', async () => {
    // Prepare
    const s = await start({ enforceTokenAuthMethod: false });
    const env = envOf(s, 0);
    // Act
    const response = await fetch(`${s.authUrl}/${env.id}/as/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: env.clientId,
        client_secret: env.clientSecret,
      }),
    });
    // Assess
    expect(response.status).toBe(200);
  });
});

describe('simulator: the 5-second rule', () => {
  it.each([
    ['seconds', /^\d+$/],
    ['http-date', /GMT$/],
  ] as const)(
    'answers a second call inside the window with 429 REQUEST_LIMITED and Retry-After in %s',
    async (format, pattern) => {
      // Prepare
      const s = await start({ rateLimitWindowMs: 60_000, retryAfterFormat: format });
      const t = await token(s);
      const path = `/environments/${envOf(s).id}/dataExplorations`;
      // Act
      const first = await api(s, path, { method: 'POST', json: createBody(), token: t });
      const second = await api(s, `${path}/${first.body.id}`, { token: t });
      // Assess
      expect(first.status).toBe(201);
      expect(second.status).toBe(429);
      expect(second.body).toMatchObject({ code: 'REQUEST_LIMITED', details: [{ code: 'LIMIT_EXCEEDED' }] });
      expect(second.headers.get('retry-after')).toMatch(pattern);
      expect(s.stats.rateLimited).toBe(1);
    },
  );

  it('counts entries pages unless rateLimitEntries is off', async () => {
    // Prepare
    const s = await start({ rateLimitWindowMs: 60_000, rateLimitEntries: false });
    const t = await token(s);
    const path = `/environments/${envOf(s).id}/dataExplorations`;
    const created = await api(s, path, { method: 'POST', json: createBody({ deliverAs: 'ENTRIES' }), token: t });
    // Act
    const page = await api(s, `${path}/${created.body.id}/entries?limit=5`, { token: t });
    // Assess
    expect(page.status).toBe(200);
  });
});

describe('simulator: file jobs', () => {
  it('stays IN_PROGRESS for pollsUntilDone polls, then SUCCESS with a password and two expiring links', async () => {
    // Prepare
    const s = await start({ pollsUntilDone: 2, linkTtlMs: 60_000 });
    const t = await token(s);
    const path = `/environments/${envOf(s).id}/dataExplorations`;
    const created = await api(s, path, { method: 'POST', json: createBody(), token: t });
    // Act
    const statuses: unknown[] = [created.body.status];
    let last = created;
    for (let i = 0; i < 3; i++) {
      last = await api(s, `${path}/${created.body.id}`, { token: t });
      statuses.push(last.body.status);
    }
    const csvUrl = String(last.body.csvPresignedUrl);
    const ok = await fetch(csvUrl);
    const zip = Buffer.from(await ok.arrayBuffer());
    const withAuth = await fetch(csvUrl, { headers: { authorization: `Bearer ${t}` } });
    s.advanceTime(60_001);
    const expired = await fetch(String(last.body.jsonPresignedUrl));
    // Assess
    expect(statuses).toEqual(['IN_PROGRESS', 'IN_PROGRESS', 'IN_PROGRESS', 'SUCCESS']);
    expect(last.body.zipPassword).toEqual(expect.any(String));
    expect(new URL(csvUrl).host).toBe(s.hosts.storage);
    expect(csvUrl).toContain('X-Amz-Signature=');
    expect(ok.status).toBe(200);
    const { text, zipCrypto } = await unzipText(zip, String(last.body.zipPassword));
    expect(zipCrypto).toBe(true);
    expect(text.split('\r\n')[0]).toBe(
      'userId,environmentId,populationId,username,givenName,familyName,mfaEnabled,bypassUntil,userCreatedAt,userUpdatedAt,deviceId,deviceOrder,deviceNickname,deviceType,deviceStatus,deviceIntegrityStateCompromised,deviceIntegrityStateReason,deviceIntegrityStateTimestamp,deviceIntegrityStateAdvice,phone,extension,email,deviceBlocked,blockedAt,deviceLocked,lockExpiration,fidoBackupEligibility,fidoBackupState,fidoUserVerification,fidoMinPinLength,sdkVersion,manufacturer,deviceName,modelName,osType,osVersion,appId,appVersion,mobileUnitId,installedApplicationId,rpId,deviceCreatedAt,deviceUpdatedAt,lastDeviceTrxTime,serialNumber',
    );
    expect(withAuth.status).toBe(400);
    expect(expired.status).toBe(403);
    expect(await expired.text()).toContain('<Code>AccessDenied</Code>');
  });

  it('writes AES-256 zips when asked, with a JSON link under the configured name', async () => {
    // Prepare
    const s = await start({
      pollsUntilDone: 0,
      zipEncryption: 'aes256',
      jsonLinkField: 'jsonFilePresignedURL',
      jsonLayout: 'ndjson',
    });
    const t = await token(s);
    const path = `/environments/${envOf(s).id}/dataExplorations`;
    const created = await api(s, path, {
      method: 'POST',
      json: createBody({ fields: [{ name: 'userId' }, { name: 'phone' }] }),
      token: t,
    });
    // Act
    const done = await api(s, `${path}/${created.body.id}`, { token: t });
    const json = Buffer.from(await (await fetch(String(done.body.jsonFilePresignedURL))).arrayBuffer());
    const { text, zipCrypto } = await unzipText(json, String(done.body.zipPassword));
    // Assess
    expect(done.body.jsonPresignedUrl).toBeUndefined();
    expect(zipCrypto).toBe(false);
    expect(text.trim().split('\n')).toHaveLength(40);
    expect(Object.keys(JSON.parse(text.split('\n')[0] as string))).toEqual(['userId', 'phone']);
  });

  it('ends with terminalStatus when it is not SUCCESS', async () => {
    // Prepare
    const s = await start({ pollsUntilDone: 0, terminalStatus: 'FAILED' });
    const t = await token(s);
    const path = `/environments/${envOf(s).id}/dataExplorations`;
    const created = await api(s, path, { method: 'POST', json: createBody(), token: t });
    // Act
    const done = await api(s, `${path}/${created.body.id}`, { token: t });
    // Assess
    expect(done.body.status).toBe('FAILED');
    expect(done.body.zipPassword).toBeUndefined();
  });

  it('serves the cached file for the same settings within 2 hours, a new one after; explorations expire with 404', async () => {
    // Prepare
    const s = await start({ pollsUntilDone: 1 });
    const t = await token(s);
    const path = `/environments/${envOf(s).id}/dataExplorations`;
    const finish = async (bearer: string) => {
      const created = await api(s, path, { method: 'POST', json: createBody(), token: bearer });
      let done = await api(s, `${path}/${created.body.id}`, { token: bearer });
      if (done.body.status === 'IN_PROGRESS') done = await api(s, `${path}/${created.body.id}`, { token: bearer });
      return { created, done };
    };
    // Act
    const a = await finish(t);
    const b = await finish(t);
    s.advanceTime(31 * 60_000);
    const gone = await api(s, `${path}/${a.created.body.id}`, { token: t });
    s.advanceTime(90 * 60_000);
    const c = await finish(await token(s));
    // Assess
    expect(a.done.body.status).toBe('SUCCESS');
    expect(b.created.body.status).toBe('IN_PROGRESS');
    expect(b.done.body.status).toBe('SUCCESS');
    expect(b.done.body.zipPassword).toBe(a.done.body.zipPassword);
    expect(gone.status).toBe(404);
    expect(c.done.body.status).toBe('SUCCESS');
    expect(c.done.body.zipPassword).not.toBe(a.done.body.zipPassword);
    expect(s.stats.filesGenerated).toBe(2);
  });
});

describe('simulator: entries', () => {
  it.each(['embedded', 'top-level'] as const)(
    'pages %s entries with _links.next until the last page',
    async (shape) => {
      // Prepare
      const s = await start({ entriesShape: shape, entriesBooleansAsStrings: shape === 'top-level' });
      const t = await token(s);
      const path = `/environments/${envOf(s).id}/dataExplorations`;
      const created = await api(s, path, { method: 'POST', json: createBody({ deliverAs: 'ENTRIES' }), token: t });
      // Act
      const entries: Record<string, unknown>[] = [];
      let url: string | undefined = `${s.baseUrl}${path}/${created.body.id}/entries?limit=7`;
      let pages = 0;
      while (url) {
        const response = await fetch(url, { headers: { authorization: `Bearer ${t}` } });
        const page = (await response.json()) as {
          _embedded?: { entries: Record<string, unknown>[] };
          entries?: Record<string, unknown>[];
          _links: { next?: { href: string } };
        };
        entries.push(...((shape === 'embedded' ? page._embedded?.entries : page.entries) ?? []));
        url = page._links.next?.href;
        pages++;
      }
      // Assess
      expect(created.body.status).toBe('SUCCESS');
      expect(pages).toBe(6);
      expect(entries).toHaveLength(40);
      const booleans = entries.map((e) => e.mfaEnabled);
      expect(booleans.every((b) => (shape === 'top-level' ? typeof b === 'string' : typeof b === 'boolean'))).toBe(
        true,
      );
    },
  );

  it('refuses a limit outside 1-1000', async () => {
    // Prepare
    const s = await start();
    const t = await token(s);
    const path = `/environments/${envOf(s).id}/dataExplorations`;
    const created = await api(s, path, { method: 'POST', json: createBody({ deliverAs: 'ENTRIES' }), token: t });
    // Act
    const page = await api(s, `${path}/${created.body.id}/entries?limit=1001`, { token: t });
    // Assess
    expect(page.status).toBe(400);
  });
});

describe('simulator: requests it refuses', () => {
  it('validates the template, fields and filter, and 404s a doubled /v1', async () => {
    // Prepare
    const s = await start();
    const t = await token(s);
    const path = `/environments/${envOf(s).id}/dataExplorations`;
    // Act
    const template = await api(s, path, {
      method: 'POST',
      json: { ...createBody(), dataExplorationTemplate: { id: 'x' } },
      token: t,
    });
    const field = await api(s, path, {
      method: 'POST',
      json: createBody({ fields: [{ name: 'lastLogin' }] }),
      token: t,
    });
    const filter = await api(s, path, {
      method: 'POST',
      json: createBody({ filter: '(deviceType sw "SM")' }),
      token: t,
    });
    const doubled = await api(s, `/v1${path}`, { method: 'POST', json: createBody(), token: t });
    const noToken = await api(s, path, { method: 'POST', json: createBody(), token: 'nope' });
    // Assess
    expect(template.status).toBe(400);
    expect(field.status).toBe(400);
    expect(filter.status).toBe(400);
    expect(filter.body).toMatchObject({ details: [{ code: 'INVALID_FILTER' }] });
    expect(doubled.status).toBe(404);
    expect(noToken.status).toBe(401);
  });

  it('applies a filter to the rows', async () => {
    // Prepare
    const s = await start({ pollsUntilDone: 0 });
    const t = await token(s);
    const path = `/environments/${envOf(s).id}/dataExplorations`;
    const expected = s.dataset(envOf(s).id).filter((r) => String(r.phone ?? '').startsWith('+44')).length;
    // Act
    const created = await api(s, path, {
      method: 'POST',
      json: createBody({ deliverAs: 'ENTRIES', filter: '(phone sw "+44")' }),
      token: t,
    });
    const page = await api(s, `${path}/${created.body.id}/entries?limit=1000`, { token: t });
    // Assess
    expect(page.body.count).toBe(expected);
    expect(expected).toBeGreaterThan(0);
  });

  it('answers injected faults with their status and Retry-After', async () => {
    // Prepare
    const s = await start({
      faults: [
        { route: 'create', status: 503, times: 1 },
        { route: 'poll', status: 429, retryAfter: '7' },
      ],
    });
    const t = await token(s);
    const path = `/environments/${envOf(s).id}/dataExplorations`;
    // Act
    const first = await api(s, path, { method: 'POST', json: createBody(), token: t });
    const second = await api(s, path, { method: 'POST', json: createBody(), token: t });
    const poll = await api(s, `${path}/${second.body.id}`, { token: t });
    // Assess
    expect(first.status).toBe(503);
    expect(second.status).toBe(201);
    expect(poll.status).toBe(429);
    expect(poll.headers.get('retry-after')).toBe('7');
  });

  it('answers 403 INSUFFICIENT_PERMISSIONS for a worker app without the role', async () => {
    // Prepare
    const base = await start();
    const environments = base.environments.map((e, i) => ({ ...e, forbidden: i === 0 }));
    await base.close();
    const s = await start({ environments });
    const t = await token(s);
    // Act
    const response = await api(s, `/environments/${envOf(s).id}/dataExplorations`, {
      method: 'POST',
      json: createBody(),
      token: t,
    });
    // Assess
    expect(response.status).toBe(403);
    expect(response.body).toMatchObject({ code: 'ACCESS_FAILED', details: [{ code: 'INSUFFICIENT_PERMISSIONS' }] });
  });
});

describe('simulator: data', () => {
  it('is deterministic, exact in size and CSV-hostile', () => {
    // Act
    const a = generateRows({ environmentId: 'e', rows: 300, seed: 7 });
    const b = generateRows({ environmentId: 'e', rows: 300, seed: 7 });
    const text = JSON.stringify(a);
    // Assess
    expect(a).toEqual(b);
    expect(a).toHaveLength(300);
    expect(text).toContain('Smith, Jr.');
    expect(text).toContain('\\"');
    expect(text).toContain('\\n');
    expect([...text].some((ch) => (ch.codePointAt(0) ?? 0) > 127)).toBe(true);
    expect(a.some((r) => r.deviceId === null)).toBe(true);
    expect(a.some((r) => r.deviceIntegrityStateCompromised === true)).toBe(true);
    expect(a.some((r) => r.deviceBlocked === true || r.deviceLocked === true)).toBe(true);
    expect(a.some((r) => r.mfaEnabled === false)).toBe(true);
  });
});
