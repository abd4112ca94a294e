/**
 * The run claim against S3's documented answers, over real HTTP: a loopback stub that answers a
 * conditional create with 200, 412 PreconditionFailed or 409 ConditionalRequestConflict (as S3
 * does, with its XML error bodies), and a GET with the stored claim.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { definitionFor } from '../../lambdas/connectors/registry.ts';
import { claimKey, claimScheduledRun, isScheduleDelivery } from '../../lambdas/pipeline/claim.ts';
import { planRun } from '../../lambdas/pipeline/plan.ts';
import { preconditionFailed } from '../support/create-once-s3.ts';
import { type Loopback, startLoopback } from '../support/loopback.ts';

const BUCKET = 'archive';
const TIME = '2026-11-22T01:30:00Z';
const OTHER = { run_id: 'arn:execution:first', claimed_at: '2026-11-22T01:30:02.000Z', scheduled_time: TIME };

interface Seen {
  readonly method: string;
  readonly path: string;
  readonly ifNoneMatch?: string;
  readonly body: string;
}

/** What the stub answers a PUT with, in turn; the GET answers `stored`. */
let puts: ('ok' | 412 | 409)[] = [];
let stored = '';
const seen: Seen[] = [];

function conflict(res: ServerResponse): void {
  res
    .writeHead(409, { 'content-type': 'application/xml' })
    .end(
      '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>ConditionalRequestConflict</Code>' +
        '<Message>A conflicting operation occurred. If using PutObject you can retry the request.</Message></Error>',
    );
}

async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const path = decodeURIComponent(new URL(req.url ?? '/', 'http://stub').pathname);
  const ifNoneMatch = req.headers['if-none-match'] as string | undefined;
  seen.push({ method: req.method ?? '', path, ifNoneMatch, body: Buffer.concat(chunks).toString() });
  if (req.method === 'GET' && req.url?.includes('list-type=2')) {
    res
      .writeHead(200, { 'content-type': 'application/xml' })
      .end(
        `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult><Name>${BUCKET}</Name><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>`,
      );
    return;
  }
  if (req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'application/json', etag: '"e"' }).end(stored);
    return;
  }
  const next = puts.shift() ?? 'ok';
  if (next === 412) preconditionFailed(res, path);
  else if (next === 409) conflict(res);
  else res.writeHead(200, { etag: '"e"' }).end();
}

let stub: Loopback;
let s3: S3Client;
const deps = () => ({ s3, bucket: BUCKET, now: () => new Date('2026-11-22T01:30:05Z'), sleep: async () => {} });

beforeAll(async () => {
  stub = await startLoopback((req, res) => void answer(req, res));
  s3 = new S3Client({
    endpoint: stub.url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
});
afterAll(async () => {
  s3?.destroy();
  await stub?.close();
});
afterEach(() => {
  puts = [];
  stored = '';
  seen.length = 0;
});

describe('claimScheduledRun', () => {
  const key = claimKey('csp', TIME);

  it('creates the claim with If-None-Match: * at one key per vendor and instant', async () => {
    // Act
    const result = await claimScheduledRun('csp', TIME, 'arn:execution:mine', deps());
    // Assess
    expect(key).toBe('runs/vendor=csp/scheduled=2026-11-22T01:30:00.000Z/claim.json');
    expect(claimKey('csp', '2026-11-22T01:30:00.000+00:00')).toBe(key);
    expect(result.status).toBe('CLAIMED');
    expect(seen).toEqual([{ method: 'PUT', path: `/${BUCKET}/${key}`, ifNoneMatch: '*', body: expect.any(String) }]);
    expect(JSON.parse(seen[0]?.body ?? '')).toEqual({
      run_id: 'arn:execution:mine',
      claimed_at: '2026-11-22T01:30:05.000Z',
      scheduled_time: '2026-11-22T01:30:00.000Z',
    });
  });

  it('names the run that claimed the time first when S3 answers 412', async () => {
    // Prepare
    puts = [412];
    stored = JSON.stringify(OTHER);
    // Act
    const result = await claimScheduledRun('csp', TIME, 'arn:execution:second', deps());
    // Assess
    expect(result).toEqual({ status: 'DUPLICATE', claim: OTHER });
    expect(seen.map((s) => s.method)).toEqual(['PUT', 'GET']);
  });

  it('goes on when the existing claim is its own (a retried PlanRun, a redriven execution)', async () => {
    // Prepare
    puts = [412];
    stored = JSON.stringify(OTHER);
    // Act
    const result = await claimScheduledRun('csp', TIME, OTHER.run_id, deps());
    // Assess
    expect(result).toEqual({ status: 'CLAIMED', claim: OTHER });
  });

  it('tries again on 409 ConditionalRequestConflict, then lets 412 decide', async () => {
    // Prepare
    puts = [409, 409, 412];
    stored = JSON.stringify(OTHER);
    // Act
    const result = await claimScheduledRun('csp', TIME, 'arn:execution:second', deps());
    // Assess
    expect(result.status).toBe('DUPLICATE');
    expect(seen.map((s) => s.method)).toEqual(['PUT', 'PUT', 'PUT', 'GET']);
  });

  it('fails, naming the answer, when S3 keeps answering 409', async () => {
    // Prepare
    puts = [409, 409, 409, 409];
    // Act
    const claiming = claimScheduledRun('csp', TIME, 'arn:execution:second', deps());
    // Assess
    await expect(claiming).rejects.toThrow(/409 ConditionalRequestConflict 4 times/);
  });

  it('refuses an existing claim it cannot read', async () => {
    // Prepare
    puts = [412];
    stored = '{"run":1}';
    // Act
    const claiming = claimScheduledRun('csp', TIME, 'arn:execution:second', deps());
    // Assess
    await expect(claiming).rejects.toThrow(/expected \{run_id, claimed_at, scheduled_time\}; received \{"run":1\}/);
  });
});

describe('isScheduleDelivery', () => {
  it("is only a schedule's input, exactly {scheduledTime}", () => {
    expect(isScheduleDelivery({ scheduledTime: TIME })).toBe(true);
    expect(isScheduleDelivery({ scheduledTime: TIME, date: '2026-11-20' })).toBe(false);
    expect(isScheduleDelivery({ scheduledTime: TIME, force: false })).toBe(false);
    expect(isScheduleDelivery({ scheduledTime: TIME, tenants: ['a'] })).toBe(false);
    expect(isScheduleDelivery({ scheduledTime: TIME, reports: ['users'] })).toBe(false);
  });
});

describe('planRun', () => {
  const input = (request: Record<string, unknown>) => ({
    vendor: 'csp',
    section: { tenants: [{ id: 'alice', since: '2026-01-01' }], reports: ['mfa_audit'] },
    request: { scheduledTime: TIME, ...request },
    runId: 'arn:execution:second',
  });
  const planDeps = () => ({ ...deps(), definition: definitionFor('csp') });

  it('plans nothing, listing nothing, for a duplicate delivery', async () => {
    // Prepare
    puts = [412];
    stored = JSON.stringify(OTHER);
    // Act
    const plan = await planRun(input({}), planDeps());
    // Assess
    expect(plan).toEqual({
      items: [],
      alreadyArchived: 0,
      deferred: 0,
      atRisk: [],
      outsideTenantRange: 0,
      lost: 0,
      bookkeeping: [],
      duplicateOf: OTHER,
    });
    expect(seen.map((s) => s.method)).toEqual(['PUT', 'GET']);
  });

  it('never claims for a run started by hand', async () => {
    // Act
    const plan = await planRun(input({ date: '2026-11-20', force: true }), planDeps());
    // Assess: planned from the (empty) manifest listing, and no claim written
    expect(plan.items.map((item) => item.date)).toEqual(['2026-11-20']);
    expect(plan.duplicateOf).toBeNull();
    expect(seen.filter((s) => s.path.includes('/runs/'))).toEqual([]);
  });

  it('never claims for an input with more than {scheduledTime}, even a field the run does not read', async () => {
    // Prepare: another execution holds the claim
    puts = [412];
    stored = JSON.stringify(OTHER);
    // Act: an operator starts the scheduled time again by hand, saying why
    const plan = await planRun(input({ comment: 're-run after the vendor outage' }), planDeps());
    // Assess: it plans its dates, and neither claims nor reads a claim
    expect(plan.duplicateOf).toBeNull();
    expect(plan.items.length).toBeGreaterThan(0);
    expect(seen.filter((s) => s.path.includes('/runs/'))).toEqual([]);
  });
});
