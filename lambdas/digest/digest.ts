/**
 * The manifest digest: a signed list of the manifest versions published since the previous
 * digest, chained to it by its SHA-256, as CloudTrail's log file validation does for log files.
 * A copy of the archive kept outside AWS can then be checked without trusting its storage: each
 * digest's signature, the unbroken chain, and every listed manifest's bytes.
 *
 *   digests/<sequence, 8 digits>.json       the digest (one JSON line)
 *   digests/<sequence, 8 digits>.sig        its signature: DER ECDSA P-256 over SHA-256 of the .json bytes
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { type Publication, PublicationSchema } from './publications.ts';

export const DIGESTS_PREFIX = 'digests/';

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/);

export const DigestSchema = z
  .object({
    schema_version: z.literal(1),
    sequence: z.number().int().positive(),
    created_at: z.iso.datetime(),
    /** the previous digest's key and the SHA-256 of its bytes; null for the first */
    previous: z
      .object({ key: z.string().min(1), sha256: Sha256 })
      .strict()
      .nullable(),
    /** the last publication-log key covered; the next digest starts after it */
    through: z.string().min(1).nullable(),
    publications: z.array(PublicationSchema.extend({ log_key: z.string().min(1) }).strict()),
    signing: z
      .object({
        /** KMS key ARN, or `local:<fingerprint>` for the local runner's key */
        key_id: z.string().min(1),
        algorithm: z.literal('ECDSA_SHA_256'),
        /** SHA-256 of the public key (DER SubjectPublicKeyInfo): pin this to check a copy */
        public_key_sha256: Sha256,
      })
      .strict(),
  })
  .strict();

export type Digest = z.infer<typeof DigestSchema>;
export type LoggedPublication = Publication & { log_key: string };

export function digestKey(sequence: number): string {
  return `${DIGESTS_PREFIX}${String(sequence).padStart(8, '0')}.json`;
}

export function signatureKey(sequence: number): string {
  return `${DIGESTS_PREFIX}${String(sequence).padStart(8, '0')}.sig`;
}

export function sha256Hex(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The digest's bytes exactly as written and signed. */
export function renderDigest(digest: Digest): Buffer {
  return Buffer.from(`${JSON.stringify(DigestSchema.parse(digest))}\n`);
}

export interface ChainLink {
  readonly key: string;
  readonly bytes: Buffer;
}

/**
 * What is wrong with a run of digests read back in sequence order: a gap, a `previous` that does
 * not name the digest before it with its exact hash, or a `through` that goes backwards.
 */
export function chainProblems(links: readonly ChainLink[]): { key: string; detail: string }[] {
  const problems: { key: string; detail: string }[] = [];
  let before: { link: ChainLink; digest: Digest } | undefined;
  for (const link of links) {
    const parsed = DigestSchema.safeParse(safeJson(link.bytes));
    if (!parsed.success) {
      problems.push({ key: link.key, detail: 'not a digest this version can read' });
      before = undefined;
      continue;
    }
    const digest = parsed.data;
    const expectedPrevious = before ? { key: before.link.key, sha256: sha256Hex(before.link.bytes) } : null;
    if (before && digest.sequence !== before.digest.sequence + 1) {
      problems.push({
        key: link.key,
        detail: `sequence ${digest.sequence} follows ${before.digest.sequence}: a digest is missing`,
      });
    } else if (!before && digest.sequence !== 1 && problems.length === 0) {
      problems.push({ key: link.key, detail: `the chain starts at sequence ${digest.sequence}, not 1` });
    }
    if (before && JSON.stringify(digest.previous) !== JSON.stringify(expectedPrevious)) {
      problems.push({
        key: link.key,
        detail: `previous is ${JSON.stringify(digest.previous)}; the digest before it is ${JSON.stringify(expectedPrevious)}`,
      });
    }
    before = { link, digest };
  }
  return problems;
}

/** The JSON in `bytes`, or undefined when it is not JSON. */
export function safeJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}
