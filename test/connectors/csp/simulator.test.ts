import { afterEach, describe, expect, it } from 'vitest';
import {
  AUDIT_PATH,
  AUTHORIZE_PATH,
  type CspSimulator,
  type CspSimulatorOptions,
  startCspSimulator,
} from '../../../simulators/csp/server.ts';
import { ANCHOR, DAY_END, DAY_START, simClock } from './helpers.ts';

let sim: CspSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function simulator(options: CspSimulatorOptions = {}): Promise<CspSimulator> {
  sim = await startCspSimulator({ anchor: ANCHOR, now: simClock, ...options });
  return sim;
}

async function authorize(s: CspSimulator, form: Record<string, string>, query = ''): Promise<Response> {
  return fetch(`${s.baseUrl}${AUTHORIZE_PATH}${query}`, { method: 'POST', body: new URLSearchParams(form) });
}

async function accessTokenFor(s: CspSimulator, user = 0): Promise<string> {
  const response = await authorize(s, { api_token: s.users[user]!.apiToken });
  return ((await response.json()) as { access_token: string }).access_token;
}

async function audit(s: CspSimulator, token: string | undefined, body: unknown): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers['csp-auth-token'] = token;
  return fetch(`${s.baseUrl}${AUDIT_PATH}`, { method: 'POST', headers, body: JSON.stringify(body) });
}

const window = { startDate: DAY_START, endDate: DAY_END };

describe('token exchange', () => {
  it('answers the AccessToken shape for form api_token', async () => {
    const s = await simulator({ expiresIn: 42 });
    const response = await authorize(s, { api_token: s.users[0]!.apiToken });
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(
      ['access_token', 'expires_in', 'id_token', 'refresh_token', 'scope', 'token_type'].sort(),
    );
    expect(body.expires_in).toBe(42);
  });

  it('accepts the deprecated refresh_token in the form or the query, unless switched off', async () => {
    const s = await simulator();
    const token = s.users[0]!.apiToken;
    expect((await authorize(s, { refresh_token: token })).status).toBe(200);
    expect((await authorize(s, {}, `?refresh_token=${token}`)).status).toBe(200);
    await s.close();
    const strict = await simulator({ acceptRefreshToken: false });
    expect((await authorize(strict, { refresh_token: strict.users[0]!.apiToken })).status).toBe(400);
  });

  it('answers 400 invalid_grant with moduleCode 340 for an unknown token', async () => {
    const s = await simulator();
    const response = await authorize(s, { api_token: 'nope' });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { moduleCode: number; message: string };
    expect(body.moduleCode).toBe(340);
    expect(body.message).toMatch(/^invalid_grant: /);
  });
});

describe('mfa audit', () => {
  it('needs csp-auth-token and answers 401 in the documented error shape', async () => {
    const s = await simulator();
    const response = await audit(s, undefined, window);
    expect(response.status).toBe(401);
    const body = (await response.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(
      ['cspErrorCode', 'errorCode', 'message', 'moduleCode', 'requestId', 'statusCode'].sort(),
    );
    expect(body).toMatchObject({ statusCode: 401, message: 'Unauthenticated User' });
  });

  it.each([
    ['end before start', { startDate: DAY_END, endDate: DAY_START }, 'End date must be greater than start date'],
    [
      'a future start',
      { startDate: DAY_END + 5 * 86_400_000, endDate: DAY_END + 6 * 86_400_000 },
      'Start date cannot be of future',
    ],
    ['ISO dates', { startDate: '2026-11-18', endDate: '2026-11-19' }, 'Date should be given as epoch'],
    ['an unknown action', { ...window, actions: ['MFA_BYPASS'] }, 'Specified action is not supported'],
    [
      '21 event ids',
      { ...window, eventIds: Array.from({ length: 21 }, (_, i) => `e${i}`) },
      'Cannot exceed the limit of 20 event ids',
    ],
    [
      '21 device names',
      { ...window, deviceNames: Array.from({ length: 21 }, (_, i) => `d${i}`) },
      'Cannot exceed the limit of 20 device names',
    ],
    [
      'a page past the cap',
      { ...window, pageStart: 11, pageLimit: 10 },
      'Combination of page and size exceeds max limit of records fetch',
    ],
  ])('answers 400 for %s', async (_name, body, message) => {
    const s = await simulator({ recordCap: 100 });
    const response = await audit(s, await accessTokenFor(s), body);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ statusCode: 400, message, errorCode: 'INVALID_REQUEST' });
  });

  it('answers one user per token, newest first, with totalResults unless switched off', async () => {
    const s = await simulator();
    const token = await accessTokenFor(s, 1);
    const response = await audit(s, token, { ...window, pageStart: 1, pageLimit: 500 });
    const page = (await response.json()) as {
      results: { username: string; eventDate: number }[];
      totalResults: number;
    };
    expect(new Set(page.results.map((e) => e.username))).toEqual(new Set([s.users[1]!.username]));
    const dates = page.results.map((e) => e.eventDate);
    expect(dates).toEqual([...dates].sort((a, b) => b - a));
    expect(page.totalResults).toBe(page.results.length);
    await s.close();
    const quiet = await simulator({ totalResults: false });
    const body = await (await audit(quiet, await accessTokenFor(quiet), window)).json();
    expect(body).not.toHaveProperty('totalResults');
  });

  it('pages from pageStart 0 or 1 by switch', async () => {
    for (const pageStartBase of [0, 1] as const) {
      const s = await simulator({ pageStartBase });
      const token = await accessTokenFor(s);
      const all = s.eventsFor(s.users[0]!.username, DAY_START, DAY_END + 1).map((e) => e.eventId);
      const first = (await (await audit(s, token, { ...window, pageStart: pageStartBase, pageLimit: 3 })).json()) as {
        results: { eventId: string }[];
        startIndex: number;
      };
      expect(first.results.map((e) => e.eventId)).toEqual(all.slice(0, 3));
      expect(first.startIndex).toBe(pageStartBase);
      await s.close();
      sim = undefined;
    }
  });

  it('answers 403 for a service account and 404 for a deleted user', async () => {
    const s = await simulator();
    const robot = s.users.findIndex((u) => u.kind === 'service-account');
    const gone = s.users.findIndex((u) => u.kind === 'deleted');
    expect((await audit(s, await accessTokenFor(s, robot), window)).status).toBe(403);
    expect((await audit(s, await accessTokenFor(s, gone), window)).status).toBe(404);
  });

  it('refuses an access token after its lifetime or its allowed uses', async () => {
    let now = new Date('2026-11-20T01:30:00Z');
    const s = await simulator({ now: () => now, accessTokenTtlSeconds: 60, accessTokenMaxUses: 2 });
    const token = await accessTokenFor(s);
    expect((await audit(s, token, window)).status).toBe(200);
    now = new Date(now.getTime() + 61_000);
    expect((await audit(s, token, window)).status).toBe(401);
    const other = await accessTokenFor(s);
    expect((await audit(s, other, window)).status).toBe(200);
    expect((await audit(s, other, window)).status).toBe(200);
    expect((await audit(s, other, window)).status).toBe(401);
  });

  it('injects faults with Retry-After and records requests without secrets', async () => {
    const s = await simulator({ faults: [{ endpoint: 'audit', status: 429, times: 2, retryAfterSeconds: 3 }] });
    const token = await accessTokenFor(s);
    const first = await audit(s, token, window);
    expect(first.status).toBe(429);
    expect(first.headers.get('retry-after')).toBe('3');
    expect((await audit(s, token, window)).status).toBe(429);
    expect((await audit(s, token, window)).status).toBe(200);
    expect(s.requests.map((r) => r.status)).toEqual([200, 429, 429, 200]);
    expect(s.requests[1]?.headers['csp-auth-token']).toBe('[redacted]');
    expect(JSON.stringify(s.requests)).not.toContain(token);
    expect(JSON.stringify(s.requests)).not.toContain(s.users[0]!.apiToken);
  });

  it('inserts a newest event into the queried window on calls past the first page', async () => {
    const s = await simulator({ insertWhilePaging: true });
    const token = await accessTokenFor(s);
    const before = s.eventsFor(s.users[0]!.username, DAY_START, DAY_END).map((e) => e.eventId);
    const second = (await (await audit(s, token, { ...window, pageStart: 2, pageLimit: 3 })).json()) as {
      results: { eventId: string }[];
    };
    expect(s.inserted).toHaveLength(1);
    // everything moved down by one: page 2 now starts with the old third event
    expect(second.results.map((e) => e.eventId)).toEqual(before.slice(2, 5));
  });

  it('generates deterministic data with CSV-hostile device names', async () => {
    const a = await simulator({ seed: 'x' });
    const eventsA = a.eventsFor(a.users[0]!.username, 0, Number.MAX_SAFE_INTEGER);
    await a.close();
    const b = await simulator({ seed: 'x' });
    const eventsB = b.eventsFor(b.users[0]!.username, 0, Number.MAX_SAFE_INTEGER);
    expect(eventsB).toEqual(eventsA);
    expect(eventsA).toHaveLength(240);
    const names = eventsA.map((e) => String(e.details?.deviceName ?? ''));
    expect(names.some((n) => n.includes(','))).toBe(true);
    expect(names.some((n) => n.includes('"'))).toBe(true);
    expect(names.some((n) => n.includes('\n'))).toBe(true);
    expect(names.some((n) => [...n].some((c) => c.codePointAt(0)! > 127))).toBe(true);
  });
});
