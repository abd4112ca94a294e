/**
 * The signed manifest digests over a real S3 API (s3rver on loopback): what a digest lists, its
 * chain and signature, and what `npm run verify`'s digest check finds when any part of it is
 * changed, removed or skipped.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand, type GetObjectCommandInput, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Digest, digestKey, sha256Hex, signatureKey } from '../../lambdas/digest/digest.ts';
import { publicationKey, recordPublication } from '../../lambdas/digest/publications.ts';
import { type DigestSigner, localSigner, signatureValid } from '../../lambdas/digest/signer.ts';
import { writeNextDigest } from '../../lambdas/digest/write-digest.ts';
import { checkDigests } from '../../scripts/verify/check-digests.ts';
import { BUCKET, type LocalS3, startLocalS3 } from '../support/archive-fixtures.ts';

let s3: LocalS3;
let dir: string;
let signer: DigestSigner;
let clock: Date;
let counter = 0;

const deps = (settleMs = 0) => ({ s3: s3.s3, bucket: BUCKET, signer, now: () => clock, settleMs });
const put = (key: string, body: string | Buffer) =>
  s3.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
const digestOf = async (sequence: number) => JSON.parse((await s3.getBytes(digestKey(sequence))).toString()) as Digest;
// the test's clock, not the machine's: a publication dated after the check's clock is a problem
const check = () => checkDigests({ s3: s3.s3, bucket: BUCKET, now: () => clock });

/** Writes a manifest and logs its publication, as the archive step does. */
async function publish(name: string): Promise<string> {
  const key = `manifests/vendor=acme/report=users/dt=2026-11-2${counter++ % 10}/tenant=${name}/manifest.json`;
  const text = `{"manifest":"${name}"}\n`;
  await put(key, text);
  clock = new Date(clock.getTime() + 10);
  await recordPublication(
    { s3: s3.s3, bucket: BUCKET, now: () => clock },
    { manifest_key: key, version_id: null, sha256: sha256Hex(text), bytes: Buffer.byteLength(text) },
  );
  return key;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'digest-'));
  signer = localSigner(join(dir, 'key.pem'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeEach(async () => {
  await s3?.close();
  s3 = await startLocalS3();
  clock = new Date('2026-12-07T06:00:00.000Z');
});
afterAll(async () => s3.close());

describe('writeNextDigest', () => {
  it('lists every publication since the last digest, signed, and chains each digest to the one before', async () => {
    const first = [await publish('t1'), await publish('t2')];
    clock = new Date(clock.getTime() + 1000);
    expect(await writeNextDigest(deps())).toMatchObject({ status: 'WRITTEN', sequence: 1, publications: 2 });
    const second = await publish('t3');
    clock = new Date(clock.getTime() + 1000);
    expect(await writeNextDigest(deps())).toMatchObject({ status: 'WRITTEN', sequence: 2, publications: 1 });

    const d1 = await digestOf(1);
    const d2 = await digestOf(2);
    expect(d1.publications.map((p) => p.manifest_key)).toEqual(first);
    expect(d1.previous).toBeNull();
    expect(d2.publications.map((p) => p.manifest_key)).toEqual([second]);
    expect(d2.previous).toEqual({ key: digestKey(1), sha256: sha256Hex(await s3.getBytes(digestKey(1))) });
    const bytes = await s3.getBytes(digestKey(2));
    expect(signatureValid(bytes, await s3.getBytes(signatureKey(2)), await signer.publicKey())).toBe(true);
    expect(await check()).toMatchObject({ findings: [], summary: { digests: 2, publications: 3, pending: 0 } });
  });

  it('writes an empty digest when nothing was published, so the chain accounts for the day', async () => {
    expect(await writeNextDigest(deps())).toMatchObject({ status: 'WRITTEN', sequence: 1, publications: 0 });
    expect((await digestOf(1)).publications).toEqual([]);
  });

  it('leaves publications younger than the settle time for the next digest', async () => {
    await publish('t1');
    expect(await writeNextDigest(deps(60_000))).toMatchObject({ publications: 0 });
    clock = new Date(clock.getTime() + 61_000);
    expect(await writeNextDigest(deps(60_000))).toMatchObject({ sequence: 2, publications: 1 });
  });

  it('signs a digest a crash left without its signature before writing the next', async () => {
    await publish('t1');
    await writeNextDigest(deps());
    await s3.s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: signatureKey(1) }));
    await writeNextDigest(deps());
    expect((await check()).findings).toEqual([]);
  });
});

describe('checkDigests finds', () => {
  beforeEach(async () => {
    await publish('t1');
    await writeNextDigest(deps());
    await publish('t2');
    clock = new Date(clock.getTime() + 1000);
    await writeNextDigest(deps());
  });

  it('a digest changed after signing: its signature fails, and the next one no longer chains to it', async () => {
    const bytes = await s3.getBytes(digestKey(1));
    await put(digestKey(1), Buffer.from(bytes.toString().replace('"sequence":1', '"sequence":1 ')));
    const details = (await check()).findings.map((f) => `${f.key}: ${f.detail}`);
    expect(details).toContain(`${digestKey(1)}: the signature does not match`);
    expect(details.some((d) => d.startsWith(`${digestKey(2)}: previous is`))).toBe(true);
  });

  it('a digest removed from the chain', async () => {
    await publish('t3');
    clock = new Date(clock.getTime() + 1000);
    await writeNextDigest(deps());
    await s3.s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: digestKey(2) }));
    expect((await check()).findings.map((f) => f.detail)).toContain('sequence 3 follows 1: a digest is missing');
  });

  it('a manifest changed after it was listed', async () => {
    const listed = (await digestOf(2)).publications[0]?.manifest_key as string;
    await put(listed, '{"manifest":"forged"}\n');
    const findings = (await check()).findings;
    expect(findings).toEqual([expect.objectContaining({ kind: 'digest', key: listed })]);
    expect(findings[0]?.detail).toMatch(/the digest recorded [0-9a-f]{64}/);
  });

  it('a publication the chain skipped, and a digest signed by another key than the pinned one', async () => {
    const skipped = publicationKey(new Date('2026-12-07T05:00:00.000Z'));
    await put(skipped, '{}');
    const other = localSigner(join(dir, 'other.pem'));
    const { findings, summary } = await checkDigests({
      s3: s3.s3,
      bucket: BUCKET,
      now: () => clock,
      pinnedPublicKey: await other.publicKey(),
    });
    expect(findings.map((f) => f.key)).toEqual(expect.arrayContaining([skipped, digestKey(1), digestKey(2)]));
    expect(findings.find((f) => f.key === digestKey(1))?.detail).toMatch(/not the pinned key/);
    expect(summary.pending).toBe(0);
  });
});

describe('checkDigests finds a forged manifest', () => {
  it('logged with a publication dated in the future, which no digest would ever cover', async () => {
    await publish('t1');
    clock = new Date(clock.getTime() + 1000);
    await writeNextDigest(deps());
    const key = 'manifests/vendor=acme/report=users/dt=2026-12-01/tenant=t9/manifest.json';
    const text = '{"manifest":"forged"}\n';
    await put(key, text);
    await recordPublication(
      { s3: s3.s3, bucket: BUCKET, now: () => new Date('2099-01-01T00:00:00.000Z') },
      { manifest_key: key, version_id: null, sha256: sha256Hex(text), bytes: Buffer.byteLength(text) },
    );
    clock = new Date(clock.getTime() + 1000);
    // the digest writer leaves it for later, and later never comes
    expect(await writeNextDigest(deps())).toMatchObject({ publications: 0 });
    const { findings } = await checkDigests({ s3: s3.s3, bucket: BUCKET, now: () => clock });
    expect(findings.filter((f) => f.kind === 'digest').map((f) => f.detail)).toEqual([
      'a publication dated in the future: no digest will cover it before then',
    ]);
    expect(findings.find((f) => f.key === key)?.kind).toBe('undigested');
  });
});

describe('checkDigests over a versioned bucket', () => {
  /**
   * S3 keeps every version of a manifest; s3rver keeps one. The versions a publication names are
   * stored by the test at `versions/<id>` in s3rver, and a GetObject for a version is sent there.
   */
  function versionedClient() {
    const client = s3.client();
    client.middlewareStack.add(
      (next) => async (args) => {
        const { VersionId, ...input } = args.input as GetObjectCommandInput;
        return next(VersionId ? { ...args, input: { ...input, Key: `versions/${VersionId}` } } : args);
      },
      { step: 'initialize', name: 'versionedGet' },
    );
    return client;
  }

  /** Writes a manifest as S3 version `versionId` (a copy at versions/<id>), logs it and digests it. */
  async function publishAsVersion(key: string, text: string, versionId: string): Promise<void> {
    await put(key, text);
    await put(`versions/${versionId}`, text);
    await recordPublication(
      { s3: s3.s3, bucket: BUCKET, now: () => clock },
      { manifest_key: key, version_id: versionId, sha256: sha256Hex(text), bytes: Buffer.byteLength(text) },
    );
    clock = new Date(clock.getTime() + 1000);
    await writeNextDigest(deps());
  }

  it('a manifest replaced by a version no publication names, though every listed version still hashes right', async () => {
    const key = 'manifests/vendor=acme/report=users/dt=2026-11-20/tenant=t1/manifest.json';
    const text = '{"manifest":"t1"}\n';
    await publishAsVersion(key, text, 'v1');
    const client = versionedClient();
    expect((await checkDigests({ s3: client, bucket: BUCKET, now: () => clock })).findings).toEqual([]);

    // a new version, written without the archiver's condition and never logged: the tables read it
    await put(key, '{"manifest":"forged"}\n');
    const { findings } = await checkDigests({ s3: client, bucket: BUCKET, now: () => clock });
    client.destroy();
    expect(findings).toEqual([expect.objectContaining({ kind: 'digest', key })]);
    expect(findings[0]?.detail).toMatch(/as it is now/);
  });

  it('a published manifest hidden by a delete marker, though its listed version is still there', async () => {
    const key = 'manifests/vendor=acme/report=users/dt=2026-11-21/tenant=t1/manifest.json';
    const text = '{"manifest":"t1"}\n';
    await publishAsVersion(key, text, 'v1');
    // DeleteObject without a version: S3 adds a delete marker, s3rver removes the key
    await s3.s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
    const client = versionedClient();
    const { findings } = await checkDigests({ s3: client, bucket: BUCKET, now: () => clock });
    client.destroy();
    expect(findings).toEqual([expect.objectContaining({ kind: 'digest', key })]);
    expect(findings[0]?.detail).toMatch(/delete marker/);
  });
});
