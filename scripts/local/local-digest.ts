/**
 * The local runner's signed digest: after each `npm start`, the next digest of the manifests the
 * run published (lambdas/digest/), signed with a P-256 key kept in the workspace
 * (`digest-signing-key.pem`) where the deployed stack signs with its KMS key. Nothing is left to
 * settle: every publication of the run was written before this.
 */
import { join } from 'node:path';
import { localSigner } from '../../lambdas/digest/signer.ts';
import { writeNextDigest } from '../../lambdas/digest/write-digest.ts';
import type { CommandOutput } from './command.ts';
import type { LocalS3 } from './s3.ts';
import type { LocalWorkspace } from './workspace.ts';

export async function writeLocalDigest(s3: LocalS3, workspace: LocalWorkspace, out: CommandOutput): Promise<void> {
  const outcome = await writeNextDigest({
    s3: s3.client,
    bucket: s3.bucket,
    signer: localSigner(join(workspace.root, 'digest-signing-key.pem')),
    now: () => new Date(),
    settleMs: 0,
  });
  if (outcome.status === 'WRITTEN') {
    out.print(
      `\nSigned digest ${outcome.sequence} lists the ${outcome.publications} manifests this run published (check: npm run verify)`,
    );
  }
}
