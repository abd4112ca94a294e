/**
 * Checks the archive against its manifests: every object a manifest names is read again (the
 * exact version where the manifest records one), its SHA-256 and byte count recomputed and
 * compared; where the bucket has Object Lock, its retention is compared with the configured
 * policy; objects no manifest names are listed. Works through the S3 API only, so the same code
 * checks the local archive (s3rver) and the deployed bucket.
 */

import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  GetObjectCommand,
  type GetObjectCommandOutput,
  GetObjectLockConfigurationCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { mapAtOnce } from '../../lambdas/core/at-once.ts';
import { DATA_PREFIX, MANIFESTS_PREFIX, ORIGINALS_PREFIX } from '../../lambdas/core/layout.ts';
import { listKeys, readBytes } from '../../lambdas/core/s3-objects.ts';
import { type NamedObject, namedObjects, type PartitionFilter, partitionOf, prefixesFor } from './manifest-objects.ts';
import { type RetentionPolicy, retentionProblem } from './retention.ts';

export type FindingKind =
  | 'mismatch'
  | 'missing'
  | 'unreadable-manifest'
  | 'retention'
  | 'digest'
  | 'nothing-matched'
  | 'needs-restore'
  | 'unreferenced'
  | 'undigested';

export interface Finding {
  readonly kind: FindingKind;
  readonly key: string;
  /** the manifest that names the object, where there is one */
  readonly manifest?: string;
  readonly detail: string;
}

export interface CheckReport {
  readonly manifests: number;
  /** objects read again and found as described */
  readonly verified: number;
  readonly bytes: number;
  /** whether the bucket has Object Lock (retention was checked) */
  readonly objectLock: boolean;
  /** mismatches, missing objects, unreadable manifests, retention shorter than the policy */
  readonly problems: Finding[];
  /** not a mismatch, but not verified or not published: objects in an archive tier, objects no manifest names */
  readonly notes: Finding[];
}

export interface CheckDeps {
  readonly s3: S3Client;
  readonly bucket: string;
  /** the configured Object Lock policy, checked where the bucket has Object Lock */
  readonly policy?: RetentionPolicy;
  /** objects read at once (default 4) */
  readonly concurrency?: number;
}

export const PROBLEM_KINDS: ReadonlySet<FindingKind> = new Set([
  'mismatch',
  'missing',
  'unreadable-manifest',
  'retention',
  'digest',
  'nothing-matched',
]);

export async function checkArchive(filter: PartitionFilter, deps: CheckDeps): Promise<CheckReport> {
  const objectLock = await hasObjectLock(deps);
  const findings: Finding[] = [];
  const manifestKeys = await listPartitionKeys(deps, MANIFESTS_PREFIX, filter);
  const named = new Set<string>();
  const toRead: NamedObject[] = [];
  for (const key of manifestKeys) {
    const read = await readManifest(deps, key);
    if ('problem' in read) {
      findings.push(read.problem);
      continue;
    }
    for (const object of read.objects) {
      named.add(object.key);
      toRead.push(object);
    }
  }
  let verified = 0;
  let bytes = 0;
  await mapAtOnce(toRead, deps.concurrency ?? 4, async (object) => {
    const outcome = await checkObject(deps, object, objectLock);
    findings.push(...outcome.findings);
    if (outcome.findings.every((f) => f.kind === 'retention')) {
      verified++;
      bytes += object.bytes;
    }
  });
  for (const prefix of [DATA_PREFIX, ORIGINALS_PREFIX]) {
    for (const key of await listPartitionKeys(deps, prefix, filter)) {
      if (named.has(key)) continue;
      findings.push({
        kind: 'unreferenced',
        key,
        detail:
          'kept, not part of any report: an attempt that crashed before publishing, lost to another run, or that a forced re-run replaced',
      });
    }
  }
  return {
    manifests: manifestKeys.length,
    verified,
    bytes,
    objectLock,
    problems: findings.filter((f) => PROBLEM_KINDS.has(f.kind)),
    notes: findings.filter((f) => !PROBLEM_KINDS.has(f.kind)),
  };
}

async function readManifest(deps: CheckDeps, key: string): Promise<{ objects: NamedObject[] } | { problem: Finding }> {
  const unreadable = (detail: string) => ({ problem: { kind: 'unreadable-manifest' as const, key, detail } });
  let text: string;
  try {
    text = (await readBytes(deps, key)).toString('utf8');
  } catch (error) {
    return unreadable(`could not be read: ${(error as Error).name}: ${(error as Error).message}`);
  }
  try {
    return { objects: namedObjects(JSON.parse(text), key) };
  } catch (error) {
    return unreadable((error as Error).message);
  }
}

/** Reads one object again (streaming), and compares what it finds with its manifest. */
async function checkObject(
  deps: CheckDeps,
  object: NamedObject,
  objectLock: boolean,
): Promise<{ findings: Finding[] }> {
  const about = { key: object.key, manifest: object.manifest };
  let output: GetObjectCommandOutput;
  try {
    output = await deps.s3.send(
      new GetObjectCommand({
        Bucket: deps.bucket,
        Key: object.key,
        ...(object.versionId ? { VersionId: object.versionId } : {}),
      }),
    );
  } catch (error) {
    const name = (error as Error).name;
    if (name === 'InvalidObjectState') {
      return {
        findings: [
          { kind: 'needs-restore', ...about, detail: 'in an archive storage class: restore it, then verify again' },
        ],
      };
    }
    const version = object.versionId ? ` version ${object.versionId}` : '';
    return { findings: [{ kind: 'missing', ...about, detail: `${name}: the object${version} is not in the bucket` }] };
  }
  const found = await digest(output.Body as Readable);
  const findings: Finding[] = [];
  if (found.sha256 !== object.sha256 || found.bytes !== object.bytes) {
    findings.push({
      kind: 'mismatch',
      ...about,
      detail: `expected ${object.bytes} bytes with SHA-256 ${object.sha256}; found ${found.bytes} bytes with SHA-256 ${found.sha256}`,
    });
  }
  if (objectLock && deps.policy) {
    const problem = retentionProblem(
      {
        mode: output.ObjectLockMode,
        retainUntil: output.ObjectLockRetainUntilDate,
        lastModified: output.LastModified,
      },
      deps.policy,
    );
    if (problem) findings.push({ kind: 'retention', ...about, detail: problem });
  }
  return { findings };
}

async function digest(body: Readable): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

async function hasObjectLock(deps: CheckDeps): Promise<boolean> {
  try {
    const output = await deps.s3.send(new GetObjectLockConfigurationCommand({ Bucket: deps.bucket }));
    return output.ObjectLockConfiguration?.ObjectLockEnabled === 'Enabled';
  } catch {
    // no configuration (ObjectLockConfigurationNotFoundError), or a store without Object Lock (s3rver)
    return false;
  }
}

/** Every key under the narrowest prefixes for `filter`, kept when its partition matches. */
async function listPartitionKeys(deps: CheckDeps, root: string, filter: PartitionFilter): Promise<string[]> {
  const keys: string[] = [];
  for (const prefix of prefixesFor(root, filter)) {
    for (const key of await listKeys(deps, prefix)) if (partitionOf(key)?.matches(filter)) keys.push(key);
  }
  return keys.sort();
}
