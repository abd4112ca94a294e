/**
 * Writes the next digest: the manifest versions published since the last digest, signed and
 * chained to it.
 *
 * 1. Find the newest digest (`digests/<n>.json`); if a crash left it without its signature, sign
 *    it first.
 * 2. List the publication log after the key it covered through, up to `settleMs` ago: a
 *    publication is logged a moment after its time stamp, so one stamped just before now could
 *    still be on its way and would sort before the next digest's start.
 * 3. Read each entry, build digest n+1 (even when empty: a signed "nothing was published" keeps
 *    the chain's days accounted for), sign it, write it and its signature with If-None-Match.
 *    A second writer racing for the same sequence gets HTTP 412 and stops: nothing is replaced.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { httpStatusOf, putText } from '../core/archive/s3-upload.ts';
import { listKeys, readBytes } from '../core/s3-objects.ts';
import {
  DIGESTS_PREFIX,
  type Digest,
  digestKey,
  type LoggedPublication,
  renderDigest,
  sha256Hex,
  signatureKey,
} from './digest.ts';
import { PUBLICATIONS_PREFIX, PublicationSchema, publicationTime } from './publications.ts';
import { type DigestSigner, fingerprint } from './signer.ts';

export interface DigestDeps {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly kmsKeyId?: string;
  readonly signer: DigestSigner;
  readonly now: () => Date;
  /** publications younger than this wait for the next digest */
  readonly settleMs: number;
}

export type DigestOutcome =
  | { readonly status: 'WRITTEN'; readonly key: string; readonly sequence: number; readonly publications: number }
  | { readonly status: 'RACED'; readonly key: string };

export async function writeNextDigest(deps: DigestDeps): Promise<DigestOutcome> {
  const latest = await newestDigest(deps);
  if (latest && !latest.signed)
    await putOnce(deps, signatureKey(latest.sequence), await deps.signer.sign(latest.bytes));
  const through = latest ? (JSON.parse(latest.bytes.toString('utf8')) as Digest).through : null;
  const cutoff = deps.now().getTime() - deps.settleMs;
  const publications = await publicationsAfter(deps, through, cutoff);
  const publicKey = await deps.signer.publicKey();
  const sequence = (latest?.sequence ?? 0) + 1;
  const digest: Digest = {
    schema_version: 1,
    sequence,
    created_at: deps.now().toISOString(),
    previous: latest ? { key: digestKey(latest.sequence), sha256: sha256Hex(latest.bytes) } : null,
    through: publications.at(-1)?.log_key ?? through,
    publications,
    signing: { key_id: deps.signer.keyId, algorithm: 'ECDSA_SHA_256', public_key_sha256: fingerprint(publicKey) },
  };
  const bytes = renderDigest(digest);
  await putOnce(deps, publicKeyPath(publicKey), publicKeyPem(publicKey), true);
  if (!(await putOnce(deps, digestKey(sequence), bytes))) return { status: 'RACED', key: digestKey(sequence) };
  await putOnce(deps, signatureKey(sequence), await deps.signer.sign(bytes));
  return { status: 'WRITTEN', key: digestKey(sequence), sequence, publications: publications.length };
}

/** Where the archive keeps a signing key's public half, for a copy checked outside AWS. */
export function publicKeyPath(publicKeyDer: Buffer): string {
  return `${DIGESTS_PREFIX}public-keys/${fingerprint(publicKeyDer)}.pem`;
}

function publicKeyPem(der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN PUBLIC KEY-----\n${lines.join('\n')}\n-----END PUBLIC KEY-----\n`;
}

async function newestDigest(
  deps: DigestDeps,
): Promise<{ sequence: number; bytes: Buffer; signed: boolean } | undefined> {
  const keys = await listKeys(deps, DIGESTS_PREFIX);
  const sequences = keys
    .map((key) => /^digests\/(\d{8})\.json$/.exec(key)?.[1])
    .filter((s): s is string => s !== undefined)
    .map(Number);
  if (sequences.length === 0) return undefined;
  const sequence = Math.max(...sequences);
  return { sequence, bytes: await readBytes(deps, digestKey(sequence)), signed: keys.includes(signatureKey(sequence)) };
}

async function publicationsAfter(
  deps: DigestDeps,
  after: string | null,
  cutoffMs: number,
): Promise<LoggedPublication[]> {
  const keys = (await listKeys(deps, PUBLICATIONS_PREFIX, after ?? undefined)).filter(
    (key) => publicationTime(key).getTime() <= cutoffMs,
  );
  const entries: LoggedPublication[] = [];
  for (const key of keys) {
    const entry = PublicationSchema.parse(JSON.parse((await readBytes(deps, key)).toString('utf8')));
    entries.push({ ...entry, log_key: key });
  }
  return entries;
}

/** Writes `key` once. False when it already exists (HTTP 412), unless that is expected. */
async function putOnce(deps: DigestDeps, key: string, body: Uint8Array | string, mayExist = false): Promise<boolean> {
  try {
    await putText(deps, key, body, 'application/octet-stream', { ifNoneMatch: '*' });
    return true;
  } catch (error) {
    if (httpStatusOf(error) === 412) return mayExist;
    throw error;
  }
}
