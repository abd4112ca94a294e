/**
 * For tests of a local run: every outcome record a workspace's local S3 holds for one vendor,
 * parsed with the record's own schema.
 */
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { type OutcomeRecord, OutcomeRecordSchema } from '../../lambdas/pipeline/outcome-record.ts';
import { startLocalS3 } from '../../scripts/local/s3.ts';
import { localWorkspace } from '../../scripts/local/workspace.ts';

export async function workspaceOutcomes(workspaceDir: string, vendor: string): Promise<OutcomeRecord[]> {
  const workspace = localWorkspace(workspaceDir);
  const s3 = await startLocalS3(workspace.s3Directory, workspace.bucket, { recover: false });
  try {
    const listed = await s3.client.send(
      new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: `outcomes/vendor=${vendor}/` }),
    );
    return await Promise.all(
      (listed.Contents ?? []).map(async ({ Key }) => {
        const object = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key }));
        return OutcomeRecordSchema.parse(JSON.parse(await (object.Body?.transformToString() ?? '')));
      }),
    );
  } finally {
    await s3.close();
  }
}
