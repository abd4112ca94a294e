import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { manifestKey } from '../../lambdas/core/layout.ts';
import { parseBackfillArgs } from '../../scripts/backfill/args.ts';
import { BackfillError, UsageError } from '../../scripts/backfill/errors.ts';
import { type BackfillRequest, executionName, planBackfill } from '../../scripts/backfill/plan.ts';
import { stateMachineOutputKey } from '../../scripts/backfill/stack.ts';
import { fixtureConnector } from './fixtures.ts';

const cfn = mockClient(CloudFormationClient);
const s3 = mockClient(S3Client);
// the mocks patch the SDK classes themselves: undo that for the next file in this worker
afterAll(() => {
  cfn.restore();
  s3.restore();
});

const NOW = new Date('2025-06-15T10:00:00Z');
const STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:Acme';

const section = { enabled: true, reports: ['users', 'devices'], tenants: [{ id: 't1' }, { id: 't2' }] };

function manifests(report: string, entries: [tenant: string, date: string][]) {
  return {
    Contents: entries.map(([tenant, date]) => ({ Key: manifestKey({ vendor: 'acme', report, tenant, date }) })),
  };
}

function plan(request: BackfillRequest, connector = fixtureConnector()) {
  return planBackfill(request, {
    connector,
    section,
    stackName: 'IdentityReportArchive',
    cfn: new CloudFormationClient({ region: 'eu-west-1' }),
    s3: new S3Client({ region: 'eu-west-1' }),
    now: () => NOW,
  });
}

async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the promise to reject');
}

beforeEach(() => {
  cfn.reset();
  s3.reset();
  cfn.on(DescribeStacksCommand, { StackName: 'IdentityReportArchive' }).resolves({
    Stacks: [
      {
        StackName: 'IdentityReportArchive',
        CreationTime: NOW,
        StackStatus: 'UPDATE_COMPLETE',
        Outputs: [
          { OutputKey: 'ArchiveBucketName', OutputValue: 'archive-bucket' },
          { OutputKey: 'StateMachineArnAcme', OutputValue: STATE_MACHINE_ARN },
        ],
      },
    ],
  });
  s3.on(ListObjectsV2Command).resolves({ Contents: [] });
});

describe('planBackfill: unsupported vendor', () => {
  it('refuses a connector without backfill, before any AWS call', async () => {
    // Act
    const error = await rejectionOf(plan({ from: '2025-06-01', to: '2025-06-02' }, fixtureConnector(null)));

    // Assess
    expect(error).toBeInstanceOf(BackfillError);
    expect(error.message).toMatch(
      /Acme \(acme\) does not support backfill: its reports are snapshots of the current state/,
    );
    expect(cfn).not.toHaveReceivedAnyCommand();
    expect(s3).not.toHaveReceivedAnyCommand();
  });
});

describe('planBackfill: invalid arguments', () => {
  it.each([
    [
      { from: '2025-06-10', to: '2025-06-09' },
      /--from must not be after --to; received --from 2025-06-10 --to 2025-06-09/,
    ],
    [{ from: '2025-02-30', to: '2025-03-02' }, /--from must be a date as YYYY-MM-DD; received "2025-02-30"/],
    [{ from: '2025-06-01', to: '6/2/2025' }, /--to must be a date as YYYY-MM-DD; received "6\/2\/2025"/],
    [
      { from: '2025-06-01', to: '2025-06-02', tenants: ['t1', 'nope'] },
      /unknown tenant "nope" for acme; expected one of: t1, t2/,
    ],
    [{ from: '2020-01-01', to: '2025-06-01' }, /covers more than 366 days/],
  ])('refuses %j before any AWS call', async (request, message) => {
    // Act
    const error = await rejectionOf(plan(request));

    // Assess
    expect(error).toBeInstanceOf(BackfillError);
    expect(error.message).toMatch(message);
    expect(cfn).not.toHaveReceivedAnyCommand();
  });
});

describe('planBackfill: dates the vendor cannot serve', () => {
  it('refuses today, future dates and dates older than historyDays, and plans the rest', async () => {
    // Act (today is 2025-06-15; 30 days of history reach back to 2025-05-16)
    const result = await plan({ from: '2025-05-14', to: '2025-06-16' });

    // Assess
    expect(result.refused.map((r) => r.date)).toEqual(['2025-05-14', '2025-05-15', '2025-06-15', '2025-06-16']);
    expect(result.refused[0]?.reason).toMatch(
      /older than 30 days \(oldest served: 2025-05-16\); Acme no longer serves it/,
    );
    expect(result.refused[2]?.reason).toMatch(
      /not over yet \(today is 2025-06-15, UTC\); the latest complete day is 2025-06-14/,
    );
    expect(result.toStart.map((p) => p.date)).toHaveLength(30);
    expect(result.toStart[0]?.date).toBe('2025-05-16');
    expect(result.toStart.at(-1)?.date).toBe('2025-06-14');
  });

  it('refuses no past date when the vendor states no history limit', async () => {
    // Act
    const result = await plan({ from: '2024-12-30', to: '2025-01-02' }, fixtureConnector({ spacingSeconds: 5 }));

    // Assess
    expect(result.refused).toEqual([]);
    expect(result.toStart.map((p) => p.date)).toEqual(['2024-12-30', '2024-12-31', '2025-01-01', '2025-01-02']);
  });
});

describe('planBackfill: archived dates', () => {
  it('skips dates archived for every tenant and report, and starts partly archived ones', async () => {
    // Prepare: 06-10 complete; 06-11 lacks t2/devices
    s3.on(ListObjectsV2Command, { Prefix: 'manifests/vendor=acme/report=users/' }).resolves(
      manifests('users', [
        ['t1', '2025-06-10'],
        ['t2', '2025-06-10'],
        ['t1', '2025-06-11'],
        ['t2', '2025-06-11'],
      ]),
    );
    s3.on(ListObjectsV2Command, { Prefix: 'manifests/vendor=acme/report=devices/' }).resolves(
      manifests('devices', [
        ['t1', '2025-06-10'],
        ['t2', '2025-06-10'],
        ['t1', '2025-06-11'],
      ]),
    );

    // Act
    const result = await plan({ from: '2025-06-10', to: '2025-06-12' });

    // Assess
    expect(result.skippedArchived).toEqual(['2025-06-10']);
    expect(result.toStart.map((p) => [p.date, p.archivedPairs])).toEqual([
      ['2025-06-11', 3],
      ['2025-06-12', 0],
    ]);
    expect(s3).toHaveReceivedCommandWith(ListObjectsV2Command, { Bucket: 'archive-bucket' });
  });

  it('counts only the selected tenants', async () => {
    // Prepare: t1 is complete on 06-11, t2 is not
    s3.on(ListObjectsV2Command, { Prefix: 'manifests/vendor=acme/report=users/' }).resolves(
      manifests('users', [['t1', '2025-06-11']]),
    );
    s3.on(ListObjectsV2Command, { Prefix: 'manifests/vendor=acme/report=devices/' }).resolves(
      manifests('devices', [['t1', '2025-06-11']]),
    );

    // Act
    const onlyT1 = await plan({ from: '2025-06-11', to: '2025-06-11', tenants: ['t1'] });
    const all = await plan({ from: '2025-06-11', to: '2025-06-11' });

    // Assess
    expect(onlyT1.skippedArchived).toEqual(['2025-06-11']);
    expect(all.skippedArchived).toEqual([]);
  });

  it('skips nothing and lists nothing with force', async () => {
    // Prepare
    s3.on(ListObjectsV2Command).resolves(manifests('users', [['t1', '2025-06-11']]));

    // Act
    const result = await plan({ from: '2025-06-11', to: '2025-06-11', force: true });

    // Assess
    expect(result.skippedArchived).toEqual([]);
    expect(result.toStart.map((p) => p.input)).toEqual([{ date: '2025-06-11', force: true }]);
    expect(s3).not.toHaveReceivedAnyCommand();
  });
});

describe('planBackfill: deployed resources', () => {
  it('names the stack and outputs it looked for when the stack is missing', async () => {
    // Prepare
    cfn
      .on(DescribeStacksCommand)
      .rejects(
        Object.assign(new Error('Stack with id IdentityReportArchive does not exist'), { name: 'ValidationError' }),
      );

    // Act
    const error = await rejectionOf(plan({ from: '2025-06-11', to: '2025-06-11' }));

    // Assess
    expect(error).toBeInstanceOf(BackfillError);
    expect(error.message).toMatch(/stack "IdentityReportArchive" \(config stackName\) was not found in eu-west-1/);
    expect(error.message).toMatch(/ArchiveBucketName and StateMachineArnAcme/);
  });

  it('names the missing output and the outputs found', async () => {
    // Prepare
    cfn.on(DescribeStacksCommand).resolves({
      Stacks: [
        {
          StackName: 'IdentityReportArchive',
          CreationTime: NOW,
          StackStatus: 'CREATE_COMPLETE',
          Outputs: [{ OutputKey: 'ArchiveBucketName', OutputValue: 'archive-bucket' }],
        },
      ],
    });

    // Act
    const error = await rejectionOf(plan({ from: '2025-06-11', to: '2025-06-11' }));

    // Assess
    expect(error.message).toMatch(/has no output StateMachineArnAcme; .*\(found: ArchiveBucketName\)/);
  });

  it('upper-cases the first letter of the vendor id for the output key', () => {
    expect(stateMachineOutputKey('openathens')).toBe('StateMachineArnOpenathens');
  });
});

describe('executionName', () => {
  it('is the same for the same date, tenants (in any order) and force', () => {
    // Act
    const a = executionName({ date: '2025-06-11', tenants: ['t1', 't2'] });
    const b = executionName({ date: '2025-06-11', tenants: ['t2', 't1'] });

    // Assess
    expect(a).toBe(b);
    expect(a).toMatch(/^backfill-2025-06-11-[0-9a-f]{12}$/);
    expect(a.length).toBeLessThanOrEqual(80);
  });

  it('differs when the tenants or force differ', () => {
    // Act
    const names = new Set([
      executionName({ date: '2025-06-11' }),
      executionName({ date: '2025-06-11', tenants: ['t1'] }),
      executionName({ date: '2025-06-11', force: true }),
      executionName({ date: '2025-06-12' }),
    ]);

    // Assess
    expect(names.size).toBe(4);
  });
});

describe('parseBackfillArgs', () => {
  it('reads repeated --tenant, --force, --dry-run and --config', () => {
    // Act
    const options = parseBackfillArgs([
      '--vendor',
      'acme',
      '--from',
      '2025-06-01',
      '--to',
      '2025-06-02',
      '--tenant',
      't1',
      '--tenant',
      't2',
      '--force',
      '--dry-run',
      '--config',
      'config/example.json',
    ]);

    // Assess
    expect(options).toEqual({
      vendor: 'acme',
      from: '2025-06-01',
      to: '2025-06-02',
      config: 'config/example.json',
      tenants: ['t1', 't2'],
      force: true,
      dryRun: true,
    });
  });

  it.each([
    [['--vendor', 'acme'], /missing --from, --to/],
    [['--vendor', 'acme', '--from', 'x', '--to', 'y', '--bogus'], /bogus/],
    [['--vendor', 'acme', '--from', 'x', '--to', 'y', 'extra'], /unexpected argument "extra"/],
  ])('rejects %j', (argv, message) => {
    expect(() => parseBackfillArgs(argv)).toThrow(UsageError);
    expect(() => parseBackfillArgs(argv)).toThrow(message);
  });
});
