/**
 * Checks the signed digest chain (lambdas/digest/): every digest's signature against its public
 * key (the one pinned on the command line, or the one the archive keeps), the unbroken chain,
 * every manifest version a digest lists against the SHA-256 it recorded, and every manifest as it
 * is now against the newest publication of its key. Publications the chain skipped are problems;
 * those younger than the newest digest are only pending.
 */
import { createPublicKey } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { MANIFESTS_PREFIX } from '../../lambdas/core/layout.ts';
import { listKeys, readBytes } from '../../lambdas/core/s3-objects.ts';
import {
  chainProblems,
  DIGESTS_PREFIX,
  type Digest,
  DigestSchema,
  safeJson,
  sha256Hex,
} from '../../lambdas/digest/digest.ts';
import { PUBLICATIONS_PREFIX, PublicationSchema, publicationTime } from '../../lambdas/digest/publications.ts';
import { fingerprint, signatureValid } from '../../lambdas/digest/signer.ts';
import type { Finding } from './check-archive.ts';

export interface DigestSummary {
  readonly digests: number;
  /** fingerprints (SHA-256 of the public key) of the keys that signed them */
  readonly signedBy: string[];
  /** manifest versions the digests list, checked against their recorded hashes */
  readonly publications: number;
  /** publications newer than the newest digest: the next digest covers them */
  readonly pending: number;
}

export interface DigestCheckDeps {
  readonly s3: S3Client;
  readonly bucket: string;
  /** the public key digests must be signed with (PEM or DER); default: the key each digest names, from the archive */
  readonly pinnedPublicKey?: Buffer;
  /** the check's clock: a publication dated after it is a problem; default the system clock */
  readonly now?: () => Date;
}

const MANIFESTS_PREFIX_SLASH = `${MANIFESTS_PREFIX}/`;

interface Loaded {
  readonly key: string;
  readonly bytes: Buffer;
  readonly digest?: Digest;
}

export async function checkDigests(deps: DigestCheckDeps): Promise<{ summary: DigestSummary; findings: Finding[] }> {
  const keys = await listKeys(deps, DIGESTS_PREFIX);
  const digestKeys = keys.filter((k) => /^digests\/\d{8}\.json$/.test(k));
  const loaded: Loaded[] = [];
  for (const key of digestKeys) {
    const bytes = await readBytes(deps, key);
    const parsed = DigestSchema.safeParse(safeJson(bytes));
    loaded.push({ key, bytes, ...(parsed.success ? { digest: parsed.data } : {}) });
  }
  const findings: Finding[] = chainProblems(loaded).map((p) => digestFinding(p.key, p.detail));
  const signedBy = new Set<string>();
  for (const link of loaded) {
    const problem = await signatureProblem(deps, link, keys);
    if (problem) findings.push(digestFinding(link.key, problem));
    else if (link.digest) signedBy.add(link.digest.signing.public_key_sha256);
  }
  const listed = loaded.flatMap((l) => l.digest?.publications ?? []);
  findings.push(...(await manifestFindings(deps, listed)));
  const through = loaded.at(-1)?.digest?.through ?? null;
  const logged = await listKeys(deps, PUBLICATIONS_PREFIX);
  const covered = new Set(listed.map((p) => p.log_key));
  // the newest publication of each manifest key: the digests' in chain order, then pending ones
  const newest = new Map<string, Newest>(listed.map((p) => [p.manifest_key, { sha256: p.sha256, pending: false }]));
  let pending = 0;
  for (const key of logged) {
    if (covered.has(key)) continue;
    if (through !== null && key <= through) {
      findings.push(digestFinding(key, 'a publication the digests skipped: it sorts before the newest digest’s end'));
      continue;
    }
    if (publicationTime(key).getTime() > (deps.now?.() ?? new Date()).getTime()) {
      // the digest writer waits for it to settle, so no digest would ever cover it
      findings.push(digestFinding(key, 'a publication dated in the future: no digest will cover it before then'));
      continue;
    }
    pending++;
    const publication = PublicationSchema.parse(safeJson(await readBytes(deps, key)));
    newest.set(publication.manifest_key, { sha256: publication.sha256, pending: true });
  }
  findings.push(...(await currentManifestFindings(deps, newest)));
  return {
    summary: { digests: loaded.length, signedBy: [...signedBy], publications: listed.length, pending },
    findings,
  };
}

async function signatureProblem(
  deps: DigestCheckDeps,
  link: Loaded,
  keys: readonly string[],
): Promise<string | undefined> {
  if (!link.digest) return undefined; // chainProblems named it
  const sigKey = link.key.replace(/\.json$/, '.sig');
  if (!keys.includes(sigKey)) return 'no signature beside it';
  const expected = link.digest.signing.public_key_sha256;
  let publicKey: Buffer;
  if (deps.pinnedPublicKey) {
    publicKey = derOf(deps.pinnedPublicKey);
    if (fingerprint(publicKey) !== expected)
      return `signed by key ${expected}, not the pinned key ${fingerprint(publicKey)}`;
  } else {
    const pemKey = `${DIGESTS_PREFIX}public-keys/${expected}.pem`;
    if (!keys.includes(pemKey)) return `its public key ${pemKey} is not in the archive`;
    publicKey = derOf(await readBytes(deps, pemKey));
    if (fingerprint(publicKey) !== expected) return `${pemKey} is not the key its name says`;
  }
  return signatureValid(link.bytes, await readBytes(deps, sigKey), publicKey)
    ? undefined
    : 'the signature does not match';
}

/** The newest publication of a manifest key: what the manifest there now must hash to. */
interface Newest {
  readonly sha256: string;
  /** logged, not yet in a digest */
  readonly pending: boolean;
}

/**
 * Every manifest as it is now must be the newest version published of its key. Checking only the
 * versions the digests list would pass a later version written past the archiver (S3 keeps both,
 * and the tables read the later one), or a delete marker over a published manifest (its versions
 * stay, but the tables and this listing no longer see the report); without versioning this is
 * also the only comparison left.
 */
async function currentManifestFindings(deps: DigestCheckDeps, newest: ReadonlyMap<string, Newest>): Promise<Finding[]> {
  const findings: Finding[] = [];
  const current = await listKeys(deps, MANIFESTS_PREFIX_SLASH);
  for (const key of current) {
    const published = newest.get(key);
    if (!published) {
      findings.push({
        kind: 'undigested',
        key,
        detail:
          'in no signed digest and no pending publication: archived before digests existed, or its publication record was never written',
      });
      continue;
    }
    const found = sha256Hex(await readBytes(deps, key));
    if (found === published.sha256) continue;
    const recorded = published.pending ? 'its newest (pending) publication recorded' : 'the digest recorded';
    findings.push(digestFinding(key, `as it is now, its SHA-256 is ${found}; ${recorded} ${published.sha256}`));
  }
  const listedNow = new Set(current);
  for (const key of newest.keys()) {
    if (listedNow.has(key)) continue;
    findings.push(
      digestFinding(
        key,
        'a published manifest is gone: deleted, or hidden by a delete marker (the tables no longer show its report)',
      ),
    );
  }
  return findings;
}

/**
 * Each listed manifest version must still hash as recorded. Without versioning (the local S3)
 * there are no older versions to read: the manifest as it is now is checked against its newest
 * publication instead (currentManifestFindings).
 */
async function manifestFindings(deps: DigestCheckDeps, listed: Digest['publications']): Promise<Finding[]> {
  const findings: Finding[] = [];
  for (const publication of listed) {
    if (!publication.version_id) continue;
    const bytes = await readBytes(deps, publication.manifest_key, publication.version_id).catch(() => undefined);
    if (!bytes) {
      findings.push(digestFinding(publication.manifest_key, 'a manifest the digests list is not in the bucket'));
    } else if (sha256Hex(bytes) !== publication.sha256) {
      findings.push(
        digestFinding(
          publication.manifest_key,
          `its SHA-256 is ${sha256Hex(bytes)}; the digest recorded ${publication.sha256}`,
        ),
      );
    }
  }
  return findings;
}

function digestFinding(key: string, detail: string): Finding {
  return { kind: 'digest', key, detail };
}

/** A public key, PEM or DER (SPKI), as DER; throws when the bytes are neither. */
export function derOf(pemOrDer: Buffer): Buffer {
  const text = pemOrDer.toString('utf8');
  const key = text.includes('BEGIN')
    ? createPublicKey(text)
    : createPublicKey({ key: pemOrDer, format: 'der', type: 'spki' });
  return key.export({ format: 'der', type: 'spki' });
}
