/**
 * The legal-hold command end to end, over real HTTP: a loopback S3 stub with versions and legal
 * holds (test/support/object-lock-s3.ts) that pages every listing two entries at a time.
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { S3Client } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { type LegalHoldOptions, parseLegalHoldArgs } from '../../scripts/legal-hold/args.ts';
import { legalHoldCommand } from '../../scripts/legal-hold/command.ts';
import { type ObjectLockS3, type StoredVersion, startObjectLockS3 } from '../support/object-lock-s3.ts';

const key = (kind: string, report: string, date: string, tenant: string, file: string) =>
  `${kind}/vendor=csp/report=${report}/dt=${date}/tenant=${tenant}/${file}`;

/** Alice's range is 2026-11-20..21; everything else is outside it. */
function archive(): StoredVersion[] {
  return [
    { key: key('data', 'mfa_audit', '2026-11-19', 'alice', 'data.jsonl.gz'), versionId: 'before' },
    // a forced re-run left two versions; the older one is held already
    { key: key('data', 'mfa_audit', '2026-11-20', 'alice', 'data.jsonl.gz'), versionId: 'd2' },
    { key: key('data', 'mfa_audit', '2026-11-20', 'alice', 'data.jsonl.gz'), versionId: 'd1', hold: 'ON' },
    { key: key('data', 'mfa_audit', '2026-11-20', 'bob', 'data.jsonl.gz'), versionId: 'bob' },
    // a newer layout: an attempt's folder below the tenant's
    { key: key('data', 'mfa_audit', '2026-11-21', 'alice', 'attempt=a1/data.jsonl.gz'), versionId: 'd3' },
    { key: key('data', 'mfa_audit', '2026-11-22', 'alice', 'data.jsonl.gz'), versionId: 'after' },
    { key: key('data', 'users', '2026-11-21', 'alice', 'data.jsonl.gz'), versionId: 'u1', hold: 'OFF' },
    { key: key('originals', 'mfa_audit', '2026-11-20', 'alice', 'page-0001.json'), versionId: 'o1' },
    { key: key('originals', 'mfa_audit', '2026-11-20', 'alice', 'page-0002.json'), versionId: 'o2', refuse: true },
    {
      key: key('originals', 'mfa_audit', '2026-11-21', 'alice', 'page-0001.json'),
      versionId: 'dm',
      deleteMarker: true,
    },
    { key: key('manifests', 'mfa_audit', '2026-11-20', 'alice', 'manifest.json'), versionId: 'm1' },
    { key: 'data/vendor=rsa/report=users/dt=2026-11-20/tenant=alice/data.jsonl.gz', versionId: 'rsa' },
    { key: 'runs/vendor=csp/scheduled=2026-11-21T01:30:00.000Z/claim.json', versionId: 'claim' },
  ];
}

let stub: ObjectLockS3 | undefined;
afterEach(async () => {
  await stub?.close();
  stub = undefined;
});

async function run(argv: string[], versions = archive(), objectLock = true) {
  stub = await startObjectLockS3(versions, { objectLock });
  const s3 = new S3Client({
    endpoint: stub.url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  const printed: string[] = [];
  const options = parseLegalHoldArgs([...argv, '--bucket', stub.bucket]) as LegalHoldOptions;
  try {
    const status = await legalHoldCommand(options, {
      s3,
      cfn: new CloudFormationClient({ region: 'us-east-1' }),
      stackName: () => 'unused',
      print: (text) => printed.push(text),
    });
    return { status, printed: printed.join('\n'), holds: stub.holds, requests: stub.requests };
  } finally {
    s3.destroy();
  }
}

const ALICE_RANGE = ['--vendor', 'csp', '--tenant', 'alice', '--from', '2026-11-20', '--to', '2026-11-21'];
const ALICE = ['--config', 'config/example.json', ...ALICE_RANGE];

describe('legal-hold --on', () => {
  it('holds every version of every kind in range, only those, and names what it could not hold', async () => {
    // Act
    const { status, holds, printed } = await run([...ALICE, '--on', '--json']);

    // Assess
    expect(holds).toEqual([
      { key: key('data', 'mfa_audit', '2026-11-20', 'alice', 'data.jsonl.gz'), versionId: 'd2', status: 'ON' },
      {
        key: key('data', 'mfa_audit', '2026-11-21', 'alice', 'attempt=a1/data.jsonl.gz'),
        versionId: 'd3',
        status: 'ON',
      },
      { key: key('data', 'users', '2026-11-21', 'alice', 'data.jsonl.gz'), versionId: 'u1', status: 'ON' },
      { key: key('originals', 'mfa_audit', '2026-11-20', 'alice', 'page-0001.json'), versionId: 'o1', status: 'ON' },
      { key: key('manifests', 'mfa_audit', '2026-11-20', 'alice', 'manifest.json'), versionId: 'm1', status: 'ON' },
    ]);
    const report = JSON.parse(printed);
    expect(report.kinds).toEqual({
      data: { versions: 4, changed: 3, already: 1 },
      originals: { versions: 2, changed: 1, already: 0 },
      manifests: { versions: 1, changed: 1, already: 0 },
    });
    expect(report.failures).toEqual([
      {
        kind: 'originals',
        key: key('originals', 'mfa_audit', '2026-11-20', 'alice', 'page-0002.json'),
        versionId: 'o2',
        error: 'AccessDenied: Access Denied',
      },
    ]);
    expect(status).toBe(1);
  });

  it('pages every listing by its markers', async () => {
    // Act
    const { requests } = await run([...ALICE, '--on']);

    // Assess: the stub answers two entries a page, so the data listing of mfa_audit took pages
    const listings = requests.filter(
      (r) => r.query.has('versions') && r.query.get('prefix') === 'data/vendor=csp/report=mfa_audit/',
    );
    expect(listings.length).toBeGreaterThan(1);
    expect(listings[0]?.query.get('key-marker')).toBe('data/vendor=csp/report=mfa_audit/dt=2026-11-20');
    expect(listings.slice(1).every((r) => r.query.get('version-id-marker'))).toBe(true);
  });

  it('succeeds, changing nothing, when everything is already held', async () => {
    // Prepare
    const versions = archive().map((v) => ({ ...v, hold: 'ON' as const, refuse: false }));
    // Act
    const { status, holds, printed } = await run([...ALICE, '--on'], versions);
    // Assess
    expect(holds).toEqual([]);
    expect(printed).toContain('data:       4 versions, 0 placed, 4 already ON');
    expect(printed).not.toContain('failed');
    expect(status).toBe(0);
  });
});

describe('legal-hold --off', () => {
  it('lifts the holds in range and counts the versions never held as already off', async () => {
    // Act: every tenant and report of csp on 2026-11-20
    const { status, holds, printed } = await run([
      '--config',
      'config/example.json',
      '--vendor',
      'csp',
      '--from',
      '2026-11-20',
      '--to',
      '2026-11-20',
      '--off',
    ]);
    // Assess
    expect(holds).toEqual([
      { key: key('data', 'mfa_audit', '2026-11-20', 'alice', 'data.jsonl.gz'), versionId: 'd1', status: 'OFF' },
    ]);
    expect(printed).toContain('data:       3 versions, 1 lifted, 2 already OFF');
    expect(status).toBe(0);
  });
});

describe('legal-hold refusals', () => {
  it('fails when nothing is in range, as a misspelt vendor would be', async () => {
    const { status, holds, printed } = await run([
      '--config',
      'config/example.json',
      '--vendor',
      'cps',
      '--from',
      '2026-11-20',
      '--to',
      '2026-11-21',
      '--on',
    ]);
    expect(holds).toEqual([]);
    expect(printed).toContain('no object version found in range');
    expect(status).toBe(1);
  });

  it('changes nothing on a dry run, and says what it would do', async () => {
    const { status, holds, printed } = await run([...ALICE, '--on', '--dry-run']);
    expect(holds).toEqual([]);
    expect(printed).toContain('(dry run: nothing changed)');
    expect(printed).toContain('manifests:  1 versions, 1 to be placed, 0 already ON');
    expect(status).toBe(0);
  });

  it('refuses a bucket without Object Lock by name, before touching any object', async () => {
    const running = run([...ALICE, '--on'], archive(), false);
    await expect(running).rejects.toMatchObject({
      name: 'NoObjectLockError',
      message: expect.stringContaining('has no S3 Object Lock'),
    });
    expect(stub?.requests.map((r) => [...r.query.keys()])).toEqual([['object-lock']]);
  });

  it('refuses the local archive (no --config), whose S3 has no Object Lock', async () => {
    const running = run([...ALICE_RANGE, '--on']);
    await expect(running).rejects.toMatchObject({
      name: 'NoObjectLockError',
      message: expect.stringContaining(
        "(the local archive's S3, s3rver, has no Object Lock): name the deployed stack's config with --config <file>",
      ),
    });
    expect(stub?.requests).toEqual([]);
  });
});
