import { afterEach, describe, expect, it } from 'vitest';
import { mfaAuditRecord } from '../../../lambdas/connectors/csp/records.ts';
import { createCspRuntime } from '../../../lambdas/connectors/csp/runtime.ts';
import { VendorRequestError } from '../../../lambdas/core/errors.ts';
import {
  type CspSimulator,
  type CspSimulatorOptions,
  createRng,
  makeEvent,
  startCspSimulator,
} from '../../../simulators/csp/server.ts';
import {
  ANCHOR,
  auditCalls,
  contextFor,
  DATE,
  DAY_END,
  DAY_START,
  readText,
  requestFor,
  runFlow,
  simClock,
} from './helpers.ts';

let sim: CspSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function simulator(options: CspSimulatorOptions = {}): Promise<CspSimulator> {
  sim = await startCspSimulator({ anchor: ANCHOR, now: simClock, ...options });
  return sim;
}

function expectedIds(s: CspSimulator, user = 0): string[] {
  const username = s.users[user]?.username ?? '';
  return s.eventsFor(username, DAY_START, DAY_END).map((e) => e.eventId);
}

describe('flow: start → check → fetch', () => {
  it('reads the whole UTC day, newest first, one NDJSON line per event with the tenant label', async () => {
    // Prepare
    const s = await simulator();
    const ctx = contextFor(s, { section: { pageLimit: 7 } });
    const connector = createCspRuntime();
    const request = requestFor(ctx);

    // Act
    const started = await connector.startJob(ctx, request);
    const checked = await connector.checkJob(ctx, request, started.job);
    const fetched = await connector.fetchReport(ctx, request, checked.job);

    // Assess
    expect(started).toEqual({ status: 'READY', job: { windowStartMs: DAY_START, windowEndMs: DAY_END } });
    expect(checked.status).toBe('READY');
    if (fetched.status !== 'FETCHED') throw new Error(`expected FETCHED, got ${fetched.status}`);
    expect(fetched.sources).toHaveLength(1);
    expect(fetched.sources[0]?.fileName).toBe(`mfa-audit-${DATE}.ndjson`);
    expect(fetched.sources[0]?.role).toBe('data');
    expect(fetched.requestParameters).toMatchObject({ startDate: DAY_START, endDate: DAY_END, pageLimit: 7 });
    expect(JSON.stringify(fetched)).not.toContain(s.users[0]?.apiToken);
    const { body, contentType } = await fetched.sources[0]!.open();
    const lines = (await readText(body))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    const ids = expectedIds(s);
    expect(ids.length).toBeGreaterThan(14); // several pages of 7
    expect(lines.map((l) => l.event.eventId)).toEqual(ids);
    expect(new Set(lines.map((l) => l.tenantLabel))).toEqual(new Set([s.users[0]?.username]));
    expect(contentType).toBe('application/x-ndjson');
    // every line becomes a table row
    for (const line of lines) expect(mfaAuditRecord(line).event_id).toBe(line.event.eventId);
  });

  it('sends nothing and answers SKIPPED while the day has not ended (or not settled)', async () => {
    const s = await simulator();
    const connector = createCspRuntime();
    for (const now of [new Date(DAY_START + 3_600_000), new Date(DAY_END + 2 * 60_000)]) {
      const ctx = contextFor(s, { now });
      const result = await connector.startJob(ctx, requestFor(ctx));
      expect(result.status).toBe('SKIPPED');
      expect(result.reason).toMatch(/not closed yet/);
      expect((await connector.fetchReport(ctx, requestFor(ctx), {})).status).toBe('SKIPPED');
    }
    const future = contextFor(s);
    expect((await connector.startJob(future, requestFor(future, '2026-12-01'))).status).toBe('SKIPPED');
    expect(s.requests).toHaveLength(0);
  });

  it('answers FAILED before sending for filters the API would refuse, and for a bad date', async () => {
    const s = await simulator();
    const connector = createCspRuntime();
    const cases = [
      { deviceNames: Array.from({ length: 21 }, (_, i) => `device ${i}`) },
      { eventIds: Array.from({ length: 21 }, (_, i) => `id-${i}`) },
      { actions: ['MFA_SOMETHING_NEW'] },
    ];
    for (const tenantOverride of cases) {
      const ctx = contextFor(s, { tenantOverride: tenantOverride as never });
      const result = await connector.startJob(ctx, requestFor(ctx));
      expect(result.status).toBe('FAILED');
      expect(result.reason).toContain(ctx.tenant.label);
    }
    const ctx = contextFor(s);
    expect(await connector.startJob(ctx, requestFor(ctx, '2026-02-30'))).toMatchObject({ status: 'FAILED' });
    expect(await connector.startJob(ctx, { ...requestFor(ctx), report: 'other' })).toMatchObject({ status: 'FAILED' });
    expect(s.requests).toHaveLength(0);
  });

  it('passes the tenant filters to the API', async () => {
    const s = await simulator();
    const ctx = contextFor(s, { tenantOverride: { actions: ['MFA_AUTHENTICATION_FAILURE', 'MFA_DISABLE'] } });
    const { lines } = await runFlow(ctx);
    const username = s.users[0]!.username;
    const expected = s
      .eventsFor(username, DAY_START, DAY_END)
      .filter((e) => e.action === 'MFA_AUTHENTICATION_FAILURE' || e.action === 'MFA_DISABLE');
    expect(lines.map((l) => l.event.eventId)).toEqual(expected.map((e) => e.eventId));
    expect(auditCalls(s)[0]?.body).toMatchObject({ actions: ['MFA_AUTHENTICATION_FAILURE', 'MFA_DISABLE'] });
  });
});

describe('paging', () => {
  for (const base of [0, 1] as const) {
    it(`pages with ${base}-based pageStart until a short page`, async () => {
      const s = await simulator({ pageStartBase: base });
      const ctx = contextFor(s, { section: { pageLimit: 5, pageStartBase: base } });
      const { lines } = await runFlow(ctx);
      expect(lines.map((l) => l.event.eventId)).toEqual(expectedIds(s));
      const starts = auditCalls(s).map((c) => c.body.pageStart);
      expect(starts[0]).toBe(base);
      expect(starts).toEqual(starts.map((_, i) => base + i));
      expect(starts).toHaveLength(Math.floor(lines.length / 5) + 1);
    });
  }

  it('does not rely on totalResults: with it absent and an exact multiple of pageLimit, it reads the empty page', async () => {
    const s = await simulator({ totalResults: false });
    const username = s.users[0]!.username;
    const rng = createRng(7);
    s.setEvents(
      username,
      Array.from({ length: 14 }, (_, i) => makeEvent(rng, username, DAY_START + i * 1000)),
    );
    const ctx = contextFor(s, { section: { pageLimit: 7 } });
    const { lines } = await runFlow(ctx);
    expect(lines).toHaveLength(14);
    expect(auditCalls(s).map((c) => c.body.pageStart)).toEqual([1, 2, 3]);
  });

  it('follows a page size the API clamps (itemsPerPage below pageLimit)', async () => {
    const s = await simulator({ maxPageLimit: 4 });
    const ctx = contextFor(s, { section: { pageLimit: 10 } });
    const { lines } = await runFlow(ctx);
    expect(lines.map((l) => l.event.eventId)).toEqual(expectedIds(s));
  });

  it('refuses to loop when pageStart does not advance (0-based config against a 1-based API)', async () => {
    const s = await simulator({ pageStartBase: 1 });
    const ctx = contextFor(s, { section: { pageLimit: 5, pageStartBase: 0 } });
    await expect(runFlow(ctx)).rejects.toThrow(/pageStartBase/);
  });

  it('writes an empty JSON array (zero records, not an empty file) for a day without events', async () => {
    const s = await simulator();
    s.setEvents(s.users[0]!.username, []);
    const { text, lines } = await runFlow(contextFor(s));
    expect(text).toBe('[]\n');
    expect(lines).toEqual([[]]);
    expect(auditCalls(s)).toHaveLength(1);
  });
});

describe('de-duplication', () => {
  it('skips items shifted onto the next page by events arriving while paging', async () => {
    const s = await simulator({ insertWhilePaging: true });
    const ids = expectedIds(s);
    const ctx = contextFor(s, { section: { pageLimit: 5 } });
    const { lines } = await runFlow(ctx);
    const got = lines.map((l) => l.event.eventId);
    expect(s.inserted.length).toBeGreaterThan(2);
    expect(new Set(got).size).toBe(got.length);
    expect(new Set(got)).toEqual(new Set(ids));
  });

  it('keeps one row per eventId when the API repeats an event', async () => {
    const s = await simulator();
    const username = s.users[0]!.username;
    const rng = createRng(3);
    const events = Array.from({ length: 12 }, (_, i) => makeEvent(rng, username, DAY_START + 10_000 + i));
    const repeated = { ...events[3]!, eventDate: DAY_START + 5 };
    s.setEvents(username, [...events, repeated]);
    const { lines } = await runFlow(contextFor(s, { section: { pageLimit: 5 } }));
    expect(lines).toHaveLength(12);
  });

  it('keeps events in [day start, next day start) whether or not the API treats endDate as inclusive', async () => {
    for (const endInclusive of [true, false]) {
      const s = await simulator({ endInclusive });
      const username = s.users[0]!.username;
      const rng = createRng(11);
      s.setEvents(username, [
        makeEvent(rng, username, DAY_START - 1),
        makeEvent(rng, username, DAY_START),
        makeEvent(rng, username, DAY_END - 1),
        makeEvent(rng, username, DAY_END),
      ]);
      const { lines } = await runFlow(contextFor(s));
      expect(lines.map((l) => l.event.eventDate).sort()).toEqual([DAY_START, DAY_END - 1]);
      await s.close();
      sim = undefined;
    }
  });

  it('writes identical bytes when the same window is read again', async () => {
    const s = await simulator();
    const ctx = contextFor(s, { section: { pageLimit: 6 } });
    const first = await runFlow(ctx);
    const second = await runFlow(ctx);
    expect(second.text).toBe(first.text);
    expect(second.fileName).toBe(first.fileName);
  });
});

describe('windows and the record cap', () => {
  it('splits a day whose events would page past maxRecordsPerWindow', async () => {
    const s = await simulator({ eventsPerUser: 600 });
    const ids = expectedIds(s);
    expect(ids.length).toBeGreaterThan(40);
    const ctx = contextFor(s, { section: { pageLimit: 5, maxRecordsPerWindow: 20 } });
    const { lines } = await runFlow(ctx);
    expect(new Set(lines.map((l) => l.event.eventId))).toEqual(new Set(ids));
    expect(lines).toHaveLength(ids.length);
    const calls = auditCalls(s);
    // 1-based page numbers: pageStart × pageLimit is the records read through that page
    for (const call of calls) expect(call.body.pageStart * call.body.pageLimit).toBeLessThanOrEqual(20);
    const windows = new Set(calls.map((c) => `${c.body.startDate}-${c.body.endDate}`));
    expect(windows.size).toBeGreaterThan(2);
    // totalResults told the connector to split before reading more than the first page
    expect(calls.filter((c) => c.body.startDate === DAY_START && c.body.endDate === DAY_END)).toHaveLength(1);
  });

  it('splits when totalResults is absent, once the last allowed page is full', async () => {
    const s = await simulator({ eventsPerUser: 600, totalResults: false });
    const ids = expectedIds(s);
    const ctx = contextFor(s, { section: { pageLimit: 5, maxRecordsPerWindow: 20 } });
    const { lines } = await runFlow(ctx);
    expect(lines.map((l) => l.event.eventId).sort()).toEqual([...ids].sort());
  });

  it('splits on the documented 400 "Combination of page and size exceeds max limit of records fetch"', async () => {
    const s = await simulator({ eventsPerUser: 600, recordCap: 15, totalResults: false });
    const ids = expectedIds(s);
    const ctx = contextFor(s, { section: { pageLimit: 5 } });
    const { lines } = await runFlow(ctx);
    expect(lines.map((l) => l.event.eventId).sort()).toEqual([...ids].sort());
    const refused = auditCalls(s).filter((c) => c.status === 400);
    // the connector learns the cap: one refusal, not one per sub-window
    expect(refused).toHaveLength(1);
  });

  it('fails clearly when more events than the cap share one millisecond', async () => {
    const s = await simulator();
    const username = s.users[0]!.username;
    const rng = createRng(5);
    s.setEvents(
      username,
      Array.from({ length: 30 }, () => makeEvent(rng, username, DAY_START + 1234)),
    );
    const ctx = contextFor(s, { section: { pageLimit: 5, maxRecordsPerWindow: 10 } });
    const error = await runFlow(ctx).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VendorRequestError);
    expect(String(error)).toMatch(/cannot split/);
  });
});
