/**
 * The one configuration, typed and validated at the edge (CDK synth and the local runner).
 * Nothing else under `lib/` reads files or the environment.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { definitions } from '../lambdas/connectors/registry.ts';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
/** Ephemeral storage kept free beside the largest download (the runtime's and the SDK's own files). */
export const SPOOL_HEADROOM_BYTES = 512 * MiB;

/** An IAM role or user ARN, as `aws:PrincipalArn` names it (an assumed role by its role ARN). */
const IAM_PRINCIPAL_ARN = /^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/[\w+=,.@/-]{1,512}$/;
const IAM_PRINCIPAL_ARN_MESSAGE = 'expected an IAM role or user ARN, e.g. arn:aws:iam::123456789012:role/BreakGlass';

/** Storage classes a replica may take (Athena does not read the replica: a cold class is fine). */
export const REPLICA_STORAGE_CLASSES = ['STANDARD', 'STANDARD_IA', 'GLACIER_IR', 'DEEP_ARCHIVE'] as const;
export type ReplicaStorageClass = (typeof REPLICA_STORAGE_CLASSES)[number];

/** Fewer days than this is weak retention for evidence (a year). */
export const MIN_STRONG_RETENTION_DAYS = 365;

interface RetentionSettings {
  readonly objectLock: { readonly mode: string; readonly days: number; readonly allowWeakRetention: boolean };
  readonly removalPolicy: string;
}

/** GOVERNANCE, a short retention or a destroyable archive only with the explicit opt-in. */
function refineRetention(archive: RetentionSettings, ctx: z.RefinementCtx): void {
  const { mode, days, allowWeakRetention } = archive.objectLock;
  if (archive.removalPolicy === 'destroy' && mode === 'COMPLIANCE') {
    ctx.addIssue({
      code: 'custom',
      path: ['removalPolicy'],
      message:
        'expected retain with COMPLIANCE (its versions outlive the stack, and a deleted key would leave them unreadable); received destroy',
    });
  }
  if (allowWeakRetention) return;
  const optIn = 'or set archive.objectLock.allowWeakRetention: true for a stack whose archive may be lost';
  if (mode !== 'COMPLIANCE') {
    ctx.addIssue({
      code: 'custom',
      path: ['objectLock', 'mode'],
      message: `expected COMPLIANCE (GOVERNANCE lets anyone with s3:BypassGovernanceRetention delete evidence), ${optIn}; received ${mode}`,
    });
  }
  if (days < MIN_STRONG_RETENTION_DAYS) {
    ctx.addIssue({
      code: 'custom',
      path: ['objectLock', 'days'],
      message: `expected at least ${MIN_STRONG_RETENTION_DAYS}, ${optIn}; received ${days}`,
    });
  }
  if (archive.removalPolicy === 'destroy') {
    ctx.addIssue({
      code: 'custom',
      path: ['removalPolicy'],
      message: `expected retain (destroy deletes the archive and its key with the stack), ${optIn}; received destroy`,
    });
  }
}

export const ArchiveSettingsSchema = z
  .object({
    /**
     * S3 Object Lock default retention for every object written to the archive. COMPLIANCE for
     * seven years by default; GOVERNANCE or under a year only with `allowWeakRetention`.
     */
    objectLock: z
      .object({
        mode: z.enum(['GOVERNANCE', 'COMPLIANCE']).default('COMPLIANCE'),
        days: z.number().int().min(1).max(36_500).default(2_557),
        /** accept GOVERNANCE or fewer than 365 days (a throwaway or test stack) */
        allowWeakRetention: z.boolean().default(false),
        /** disposition: days after creation when a version expires (default: never) */
        disposeAfterDays: z.number().int().min(1).max(36_500).optional(),
      })
      .strict()
      .default({ mode: 'COMPLIANCE', days: 2_557, allowWeakRetention: false }),
    /**
     * The one principal that may disable or schedule the deletion of the archive key, and that may
     * (besides the deploying role) change its key policy and bypass the bucket's denies.
     */
    breakGlassPrincipalArn: z.string().regex(IAM_PRINCIPAL_ARN, IAM_PRINCIPAL_ARN_MESSAGE).optional(),
    /** the role CloudFormation deploys with (default: the CDK bootstrap's execution role) */
    deployRoleArn: z.string().regex(IAM_PRINCIPAL_ARN, IAM_PRINCIPAL_ARN_MESSAGE).optional(),
    /**
     * Principals that may place and lift legal holds on archived objects, besides the deploying
     * role and break-glass (default: nobody else)
     */
    legalHoldPrincipalArns: z.array(z.string().regex(IAM_PRINCIPAL_ARN, IAM_PRINCIPAL_ARN_MESSAGE)).optional(),
    /**
     * A replica of the archive kept apart (another region or account): S3 replication to a
     * versioned bucket under Object Lock, made outside this stack (default: none)
     */
    replication: z
      .object({
        destinationBucketArn: z
          .string()
          .regex(
            /^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
            'expected an S3 bucket ARN, e.g. arn:aws:s3:::archive-replica',
          ),
        destinationKmsKeyArn: z
          .string()
          .regex(
            /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]+$/,
            'expected a KMS key ARN, e.g. arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
          ),
        /** the destination's account when it is another one: replicas are then owned by it */
        destinationAccountId: z
          .string()
          .regex(/^\d{12}$/)
          .optional(),
        storageClass: z.enum(REPLICA_STORAGE_CLASSES).optional(),
      })
      .strict()
      .optional(),
    /**
     * What a stack delete does to the archive buckets and key: `retain` them (the default), or
     * `destroy` them (a throwaway stack; needs `objectLock.allowWeakRetention`).
     */
    removalPolicy: z.enum(['retain', 'destroy']).default('retain'),
    /** lifecycle: days after creation to move objects to colder storage classes */
    transitions: z
      .object({
        infrequentAccessDays: z.number().int().min(30).default(90),
        glacierInstantRetrievalDays: z.number().int().min(90).default(365),
        deepArchiveDays: z.number().int().min(180).optional(),
      })
      .strict()
      .default({ infrequentAccessDays: 90, glacierInstantRetrievalDays: 365 }),
    /**
     * a download larger than this is refused; it is spooled to the archive function's ephemeral
     * storage, so it must fit there (at most 10,240 MB) with `SPOOL_HEADROOM_BYTES` to spare
     */
    maxDownloadBytes: z
      .number()
      .int()
      .positive()
      .default(9 * GiB),
    /** an extracted file larger than this is refused */
    maxExtractedBytes: z
      .number()
      .int()
      .positive()
      .default(100 * GiB),
    /** an entry expanding more than this many times is treated as a zip bomb */
    maxCompressionRatio: z.number().positive().default(1_000),
    /** a zip with more entries than this (directories and OS junk included) is refused */
    maxEntries: z.number().int().positive().default(1_000),
    /** seconds a download may take in all: 14 minutes leaves the 15-minute archive function time to fail cleanly */
    maxDownloadSeconds: z.number().int().positive().default(840),
    /** days to keep server access logs */
    accessLogRetentionDays: z.number().int().min(1).default(3_653),
  })
  .strict()
  .superRefine((archive, ctx) => {
    refineRetention(archive, ctx);
    const t = archive.transitions;
    const dispose = archive.objectLock.disposeAfterDays;
    // a version cannot expire while locked, and S3 wants expiry after the last transition
    const earliest = Math.max(archive.objectLock.days, t.deepArchiveDays ?? t.glacierInstantRetrievalDays + 1);
    if (dispose !== undefined && dispose < earliest) {
      ctx.addIssue({
        code: 'custom',
        path: ['objectLock', 'disposeAfterDays'],
        message: `expected at least ${earliest} (the retention, and after the last storage transition); received ${dispose}`,
      });
    }
    if (t.glacierInstantRetrievalDays <= t.infrequentAccessDays) {
      ctx.addIssue({
        code: 'custom',
        path: ['transitions', 'glacierInstantRetrievalDays'],
        message: `expected more than infrequentAccessDays (${t.infrequentAccessDays}); received ${t.glacierInstantRetrievalDays}`,
      });
    }
    if (t.deepArchiveDays !== undefined && t.deepArchiveDays <= t.glacierInstantRetrievalDays) {
      ctx.addIssue({
        code: 'custom',
        path: ['transitions', 'deepArchiveDays'],
        message: `expected more than glacierInstantRetrievalDays (${t.glacierInstantRetrievalDays}); received ${t.deepArchiveDays}`,
      });
    }
  });

const vendorShape = Object.fromEntries(definitions.map((d) => [d.vendor, d.sectionSchema.optional()]));

export const AppConfigSchema = z
  .object({
    stackName: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/)
      .default('IdentityReportArchive'),
    env: z
      .object({
        account: z
          .string()
          .regex(/^\d{12}$/)
          .optional(),
        region: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
    archive: ArchiveSettingsSchema.default(ArchiveSettingsSchema.parse({})),
    alerts: z
      .object({
        /** SNS topic that receives every alarm */
        topicName: z.string().regex(/^[A-Za-z0-9_-]{1,256}$/),
        emails: z.array(z.email()).default([]),
        /** hours a vendor's scheduled run may be late before its freshness alarms fire */
        freshnessGraceHours: z
          .number()
          .nonnegative()
          .max(24 * 7)
          .default(6),
      })
      .strict(),
    catalog: z
      .object({
        databaseName: z
          .string()
          .regex(/^[a-z0-9_]{1,255}$/)
          .default('identity_reports'),
        workgroupName: z
          .string()
          .regex(/^[A-Za-z0-9._-]{1,128}$/)
          .default('identity-report-archive'),
      })
      .strict()
      .default({ databaseName: 'identity_reports', workgroupName: 'identity-report-archive' }),
    events: z
      .object({
        /** `source` of the Report Archived / Report Failed events */
        source: z.string().min(1).default('identity-report-archive'),
      })
      .strict()
      .default({ source: 'identity-report-archive' }),
    vendors: z.object(vendorShape).strict(),
  })
  .strict();

export type AppConfig = z.infer<typeof AppConfigSchema>;

export class ConfigValidationError extends Error {
  override readonly name = 'ConfigValidationError';
}

type SchemaDef = {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  element?: z.ZodType;
  in?: z.ZodType;
};

/** The keys the object schema at `path` accepts (through optional, default and array), if it is one. */
function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] | undefined {
  let current: z.ZodType | undefined = schema;
  let rest = [...path];
  while (current) {
    const def = current._zod.def as unknown as SchemaDef;
    if (def.innerType) current = def.innerType;
    else if (def.type === 'pipe') current = def.in;
    else if (def.type === 'array' && typeof rest[0] === 'number') {
      current = def.element;
      rest = rest.slice(1);
    } else if (def.type === 'object' && def.shape) {
      if (rest.length === 0) return Object.keys(def.shape);
      current = def.shape[String(rest[0])];
      rest = rest.slice(1);
    } else return undefined;
  }
  return undefined;
}

/** `vendors.openathens.tenants[0].id: expected ...` for each problem. */
export function formatIssues(source: string, error: z.ZodError, schema: z.ZodType = AppConfigSchema): string {
  const lines = error.issues.map((issue) => {
    const path = issue.path.reduce<string>(
      (acc, part) => (typeof part === 'number' ? `${acc}[${part}]` : acc ? `${acc}.${String(part)}` : String(part)),
      '',
    );
    // an unknown key (a typo, a vendor with no connector) is told what the object accepts
    const allowed = issue.code === 'unrecognized_keys' ? keysAt(schema, issue.path) : undefined;
    const expected = allowed ? `; expected one of: ${allowed.join(', ')}` : '';
    return `  - ${path || '(root)'}: ${issue.message}${expected}`;
  });
  return `invalid configuration in ${source}:\n${lines.join('\n')}`;
}

export type ConfigMode = 'deploy' | 'local';

/** `archive.objectLock.mode` as written in the raw config, before defaults. */
function objectLockModeOf(raw: unknown): unknown {
  const archive = (raw as { archive?: { objectLock?: { mode?: unknown } } } | null)?.archive;
  return archive?.objectLock?.mode;
}

/**
 * Parses a config object. `deploy` refuses inline credentials and environment-variable
 * credentials (a deployment reads every credential from Secrets Manager), and a config that does
 * not name its Object Lock mode.
 */
export function parseConfig(raw: unknown, source: string, mode: ConfigMode): AppConfig {
  const result = AppConfigSchema.safeParse(raw);
  if (!result.success) throw new ConfigValidationError(formatIssues(source, result.error));
  const config = result.data;
  const problems: string[] = [];
  // a deployment names its retention mode, so a change of the default never flips a live archive
  if (mode === 'deploy' && objectLockModeOf(raw) === undefined) {
    problems.push(
      '  - archive.objectLock.mode: expected COMPLIANCE or GOVERNANCE, named in a deploy config (the default may change; a deployed archive must not)',
    );
  }
  const vendors = config.vendors as Record<
    string,
    | { enabled: boolean; tenants: Record<string, unknown>[]; functions: { archive: { ephemeralStorageMb: number } } }
    | undefined
  >;
  for (const [vendor, section] of Object.entries(vendors)) {
    if (!section) continue;
    const spool = section.functions.archive.ephemeralStorageMb * MiB - SPOOL_HEADROOM_BYTES;
    if (config.archive.maxDownloadBytes > spool) {
      // a download past the ephemeral storage would fail as a full disk after minutes of work
      problems.push(
        `  - archive.maxDownloadBytes: ${config.archive.maxDownloadBytes} bytes do not fit the ${vendor} archive function's ephemeral storage (vendors.${vendor}.functions.archive.ephemeralStorageMb ${section.functions.archive.ephemeralStorageMb} MB, less ${SPOOL_HEADROOM_BYTES / MiB} MB for other temporary files); expected at most ${spool}`,
      );
    }
    section.tenants.forEach((tenant, index) => {
      if (mode === 'deploy' && tenant.secretName === undefined) {
        problems.push(
          `  - vendors.${vendor}.tenants[${index}]: expected secretName (a Secrets Manager secret); inline credentials and credentialsEnv are for local runs only`,
        );
      }
    });
  }
  if (problems.length > 0)
    throw new ConfigValidationError(`invalid configuration in ${source}:\n${problems.join('\n')}`);
  return config;
}

export function loadConfig(path: string, mode: ConfigMode): AppConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigValidationError(`cannot read config file ${path}: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigValidationError(`config file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  return parseConfig(raw, path, mode);
}

/** The enabled vendor sections, as `[vendor, section]`. */
export function enabledVendors(config: AppConfig): [string, Record<string, unknown> & { tenants: { id: string }[] }][] {
  return Object.entries(
    config.vendors as Record<
      string,
      (Record<string, unknown> & { enabled: boolean; tenants: { id: string }[] }) | undefined
    >,
  ).filter(
    (entry): entry is [string, Record<string, unknown> & { enabled: boolean; tenants: { id: string }[] }] =>
      entry[1]?.enabled === true,
  );
}
