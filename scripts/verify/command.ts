/**
 * The `npm run verify` command: reads its command line, opens the local archive (s3rver over the
 * workspace) or finds the deployed bucket from the stack's outputs, runs `checkArchive`, prints
 * a summary (or JSON) and returns the exit code: 0 everything matches, 1 a mismatch or a missing
 * object, 2 a bad command line, config or stack.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { S3Client } from '@aws-sdk/client-s3';
import { ConfigValidationError } from '../../lib/config.ts';
import { ARCHIVE_BUCKET_OUTPUT } from '../../lib/outputs.ts';
import { clientConfigOf, deployedStack, requiredOutput, stackOutputs } from '../deployed/stack.ts';
import { ARCHIVE_OPTIONS, type ArchiveTarget, checkArchiveArgs, TARGET_USAGE } from '../local/archive-args.ts';
import { argsErrorMessage, type CommandOutput, consoleOutput, UsageError } from '../local/command.ts';
import { startLocalS3 } from '../local/s3.ts';
import { localWorkspace } from '../local/workspace.ts';
import { type CheckDeps, type CheckReport, checkArchive, PROBLEM_KINDS } from './check-archive.ts';
import { checkDigests, type DigestSummary, derOf } from './check-digests.ts';
import { formatReport } from './format.ts';
import { type PartitionFilter, partitionOf } from './manifest-objects.ts';

export const USAGE = `usage: npm run verify -- [filters] [--workspace <dir> | --config <file> [--region <r>]] [--json]

Reads again every object the manifests name (the recorded version, where there is one),
recomputes its SHA-256 and size, checks Object Lock retention against the configured policy
(deployed, where the bucket has Object Lock), and lists objects that no manifest names.

filters:
  --vendor <id>  --report <name>  --tenant <id>  --from <YYYY-MM-DD>  --to <YYYY-MM-DD>
${TARGET_USAGE}
                       (the archive bucket, found from the stack's outputs)
digests:
  --public-key <file>  the PEM public key digests must be signed with (default: the key each
                       digest names, as kept in the archive); checked when no filter is given
output:
  --json               the whole report as JSON

exit status: 0 everything matches; 1 a mismatch, a missing object, an unreadable manifest, a
retention short of the policy or a break in the signed digests; 2 invalid arguments,
configuration or stack.`;

export async function verifyCommand(argv: readonly string[], out: CommandOutput = consoleOutput): Promise<number> {
  let options: ReturnType<typeof parseVerifyArgs>;
  try {
    options = parseVerifyArgs(argv);
  } catch (error) {
    out.printError(`npm run verify: ${argsErrorMessage(error)}`);
    out.printError(USAGE);
    return 2;
  }
  if (options.help) {
    out.print(USAGE);
    return 0;
  }
  let report: VerifyReport;
  try {
    const { target } = options;
    report = target.kind === 'deployed' ? await verifyDeployed(options, target) : await verifyLocal(options, target);
  } catch (error) {
    if (error instanceof UsageError || error instanceof ConfigValidationError) {
      out.printError(`npm run verify: ${error.message}`);
      return 2;
    }
    throw error;
  }
  out.print(options.json ? JSON.stringify(report, null, 2) : formatReport(report));
  return report.problems.length === 0 ? 0 : 1;
}

type VerifyOptions = ReturnType<typeof parseVerifyArgs>;

function parseVerifyArgs(argv: readonly string[]) {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      ...ARCHIVE_OPTIONS,
      'public-key': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  return { ...values, target: checkArchiveArgs(values) };
}

function describeFilter(filter: PartitionFilter): string {
  return Object.entries(filter)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => `--${name} ${value}`)
    .join(' ');
}

function filterOf(options: VerifyOptions): PartitionFilter {
  const { vendor, report, tenant, from, to } = options;
  return { vendor, report, tenant, from, to };
}

type VerifyReport = CheckReport & { digests?: DigestSummary };

/**
 * The archive check, then the signed digest chain. The chain is checked whole even when filters
 * narrow the archive check: a manifest rewritten together with its object matches itself, and
 * only the digests that signed the manifest's bytes show it. Findings about another partition's
 * manifest are left to an unfiltered run.
 */
async function check(options: VerifyOptions, deps: CheckDeps): Promise<VerifyReport> {
  const filter = filterOf(options);
  const file = options['public-key'];
  const pinned = file === undefined ? undefined : pinnedKeyOf(file);
  const report = await checkArchive(filter, deps);
  const { summary, findings: all } = await checkDigests({
    s3: deps.s3,
    bucket: deps.bucket,
    ...(pinned ? { pinnedPublicKey: pinned } : {}),
  });
  const findings = all.filter((f) => partitionOf(f.key)?.matches(filter) ?? true);
  if (report.manifests === 0 && Object.values(filter).some((value) => value !== undefined)) {
    // a typo in a filter must not read as proof
    findings.push({ kind: 'nothing-matched', key: describeFilter(filter), detail: 'no manifest matches the filters' });
  }
  const problems = findings.filter((f) => PROBLEM_KINDS.has(f.kind));
  const notes = findings.filter((f) => !PROBLEM_KINDS.has(f.kind));
  return {
    ...report,
    problems: [...report.problems, ...problems],
    notes: [...report.notes, ...notes],
    digests: summary,
  };
}

/** The `--public-key` file, refused before anything is read when it is missing or not a public key. */
function pinnedKeyOf(file: string): Buffer {
  try {
    const bytes = readFileSync(file);
    derOf(bytes);
    return bytes;
  } catch (error) {
    throw new UsageError(`--public-key ${file}: not a readable PEM or DER public key (${(error as Error).message})`);
  }
}

async function verifyLocal(
  options: VerifyOptions,
  target: Extract<ArchiveTarget, { kind: 'local' }>,
): Promise<VerifyReport> {
  const workspace = localWorkspace(target.workspace);
  if (!existsSync(join(workspace.s3Directory, workspace.bucket))) {
    throw new UsageError(
      `no local archive in ${workspace.root}: run \`npm start\` first, or name a deployed stack's config with --config <file>`,
    );
  }
  // no recovery: an npm start may be writing to this workspace right now
  const s3 = await startLocalS3(workspace.s3Directory, workspace.bucket, { recover: false });
  try {
    return await check(options, { s3: s3.client, bucket: s3.bucket });
  } finally {
    await s3.close();
  }
}

async function verifyDeployed(
  options: VerifyOptions,
  target: Extract<ArchiveTarget, { kind: 'deployed' }>,
): Promise<VerifyReport> {
  const stack = deployedStack(target);
  const { config } = stack;
  const clientConfig = clientConfigOf(stack);
  const outputs = await stackOutputs(new CloudFormationClient(clientConfig), config.stackName);
  const bucket = requiredOutput(outputs, config.stackName, ARCHIVE_BUCKET_OUTPUT);
  const s3 = new S3Client(clientConfig);
  const { mode, days } = config.archive.objectLock;
  const deps: CheckDeps = { s3, bucket, policy: { mode: mode as 'COMPLIANCE' | 'GOVERNANCE', days }, concurrency: 8 };
  try {
    return await check(options, deps);
  } finally {
    s3.destroy();
  }
}
