/**
 * The plan step reads which dates are archived from the manifests' keys: only a manifest marks a
 * report complete, so any other object under the manifests prefix must not count.
 */
import { GetObjectCommand, ListObjectsV2Command, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, describe, expect, it } from 'vitest';
import { definitionFor } from '../../lambdas/connectors/registry.ts';
import { manifestKey, manifestReportPrefix } from '../../lambdas/core/layout.ts';
import { planRun } from '../../lambdas/pipeline/plan.ts';

const s3 = mockClient(S3Client);
// the mock patches the SDK class itself: undo that for the next file in this worker
afterAll(() => {
  s3.restore();
});

describe('planRun', () => {
  it('counts a date as archived only when its manifest is there, not any other object beside it', async () => {
    // Prepare: CSP catches up the last 7 days; two of them have objects under the manifests prefix
    const request = (date: string) => ({ vendor: 'csp', tenant: 'alice', report: 'mfa_audit', date });
    s3.on(ListObjectsV2Command).resolves({
      Contents: [
        { Key: manifestKey(request('2026-11-19')) },
        { Key: `${manifestReportPrefix('csp', 'mfa_audit')}dt=2026-11-20/tenant=alice/manifest.json.tmp` },
      ],
    });
    // the vendor's expectations: none yet, written once
    s3.on(GetObjectCommand).rejects(new NoSuchKey({ message: 'NoSuchKey', $metadata: { httpStatusCode: 404 } }));
    s3.on(PutObjectCommand).resolves({});

    // Act
    const plan = await planRun(
      {
        vendor: 'csp',
        section: { tenants: [{ id: 'alice', since: '2026-01-01' }], reports: ['mfa_audit'] },
        request: { scheduledTime: '2026-11-22T01:30:00Z' },
        runId: 'run-1',
      },
      { definition: definitionFor('csp'), s3: new S3Client({ region: 'eu-west-1' }), bucket: 'archive' },
    );

    // Assess
    const dates = plan.items.map((item) => item.date);
    expect(dates).not.toContain('2026-11-19');
    expect(dates).toContain('2026-11-20');
  });
});
