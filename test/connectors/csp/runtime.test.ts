import { afterEach, describe, expect, it } from 'vitest';
import { mfaAuditRecord } from '../../../lambdas/connectors/csp/records.ts';
import { createCspRuntime } from '../../../lambdas/connectors/csp/runtime.ts';
import { IncompleteReportError, VendorRequestError } from '../../../lambdas/core/errors.ts';
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
    expect(fetched.sources.map((x) => [x.fileName, x.role])).toEqual([
      [`mfa-audit-${DATE}.ndjson`, 'derived'],
      [`mfa-audit-${DATE}.pages.json`, 'original'],
    ]);
    expect(fetched.requestParameters).toMatchObject({ startDate: DAY_START, endDate: DAY_END, pageLimit: 7 });
    expect(JSON.stringify(fetched)).not.toContain(s.users[0]?.apiToken);
    const [derived, original] = await Promise.all(fetched.sources.map((x) => x.open()));
    const { body, contentType } = derived!;
    const [text] = await Promise.all([readText(body), readText(original!.body)]);
    const lines = text
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
  // every plausible reading of pageStart, with and without totalResults
  const modes = [
    { pageStartMeaning: 'page', pageStartBase: 1 },
    { pageStartMeaning: 'page', pageStartBase: 0 },
    { pageStartMeaning: 'index', pageStartBase: 1 },
    { pageStartMeaning: 'index', pageStartBase: 0 },
    { pageStartMeaning: 'page', pageStartBase: 1, belowBase: 'reject' },
    { pageStartMeaning: 'index', pageStartBase: 1, belowBase: 'reject' },
  ] as const;
  for (const mode of modes) {
    for (const totalResults of [true, false]) {
      const name = `${mode.pageStartBase}-based ${mode.pageStartMeaning}${'belowBase' in mode ? ' (0 refused)' : ''}`;
      it(`reads every event once in about events ÷ pageLimit calls: ${name}, totalResults ${totalResults ? 'given' : 'absent'}`, async () => {
        // Prepare
        const s = await simulator({ ...mode, totalResults, eventsPerUser: 700 });
        const ids = expectedIds(s);
        expect(ids.length).toBeGreaterThan(80);
        // Act
        const { lines, dropped } = await runFlow(contextFor(s, { section: { pageLimit: 10 } }));
        // Assess
        expect(lines.map((l) => l.event.eventId)).toEqual(ids);
        const calls = auditCalls(s);
        expect(calls.length).toBeGreaterThanOrEqual(Math.ceil(ids.length / 10));
        expect(calls.length).toBeLessThanOrEqual(Math.ceil(ids.length / 10) + 3);
        // an index server repeats the first page's results on the page that taught the reading
        const repeats = mode.pageStartMeaning === 'index' ? 9 : 0;
        expect(dropped).toEqual(repeats ? { duplicate_event_id: repeats } : {});
      });
    }
  }

  it('stops at a full page whose results reach totalResults, and reads the empty page when it is absent', async () => {
    for (const totalResults of [true, false]) {
      const s = await simulator({ totalResults });
      const username = s.users[0]!.username;
      const rng = createRng(7);
      s.setEvents(
        username,
        Array.from({ length: 14 }, (_, i) => makeEvent(rng, username, DAY_START + i * 1000)),
      );
      const { lines } = await runFlow(contextFor(s, { section: { pageLimit: 7 } }));
      expect(lines).toHaveLength(14);
      // 0 is read as page 1 by this 1-based API, which says so in startIndex
      expect(auditCalls(s).map((c) => c.body.pageStart)).toEqual(totalResults ? [0, 2] : [0, 2, 3]);
      await s.close();
      sim = undefined;
    }
  });

  it('follows a page size the API clamps (itemsPerPage below pageLimit)', async () => {
    for (const pageStartMeaning of ['page', 'index'] as const) {
      const s = await simulator({ maxPageLimit: 4, pageStartMeaning });
      const ctx = contextFor(s, { section: { pageLimit: 10 } });
      const { lines } = await runFlow(ctx);
      expect(lines.map((l) => l.event.eventId)).toEqual(expectedIds(s));
      await s.close();
      sim = undefined;
    }
  });

  it('fails with IncompleteReportError when the pages do not add up to totalResults, never archiving short', async () => {
    // Prepare: an API that silently serves nothing past result 12 yet counts every result
    const s = await simulator({ servesUpTo: 12 });
    expect(expectedIds(s).length).toBeGreaterThan(12);
    // Act
    const error = await runFlow(contextFor(s, { section: { pageLimit: 5 } })).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(IncompleteReportError);
    expect(String(error)).toMatch(/totalResults \d+ but its pages reached 12 results/);
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

  it('narrows the page size when the API’s record cap is below pageLimit, instead of failing every day', async () => {
    // Prepare
    const s = await simulator({ recordCap: 3 });
    const ids = expectedIds(s);
    // Act
    const { lines } = await runFlow(contextFor(s, { section: { pageLimit: 5 } }));
    // Assess
    expect(lines.map((l) => l.event.eventId).sort()).toEqual([...ids].sort());
    const calls = auditCalls(s);
    expect(calls[0]).toMatchObject({ status: 400, body: { pageLimit: 5 } });
    for (const call of calls.filter((c) => c.status === 200)) expect(call.body.pageLimit).toBeLessThanOrEqual(3);
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
