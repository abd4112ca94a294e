/**
 * `npm run verify` over a local archive written by the real archiver into a workspace's local S3
 * (scripts/local/s3.ts): a clean archive passes; one byte flipped in an original on disk, a
 * missing object or an unreadable manifest fail and name the object; an object no manifest names
 * is listed without failing; filters narrow what is read; a deployed stack that cannot be read is
 * a usage failure (exit 2), not a mismatch.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open, readFile, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { archiveReport } from '../../lambdas/core/archive/index.ts';
import { manifestKey } from '../../lambdas/core/layout.ts';
import type { ReportRequest } from '../../lambdas/core/types.ts';
import { sha256Hex } from '../../lambdas/digest/digest.ts';
import { writeLocalDigest } from '../../scripts/local/local-digest.ts';
import { S3RVER_SUFFIX, startLocalS3 } from '../../scripts/local/s3.ts';
import { localWorkspace, prepareWorkspace } from '../../scripts/local/workspace.ts';
import { verifyCommand } from '../../scripts/verify/command.ts';
import { archiveInput, capturedLogger, LIMITS } from '../support/archive-fixtures.ts';
import { runCommand } from '../support/cli.ts';

let root: string;
const verify = (...args: string[]) => runCommand(verifyCommand, ['--workspace', root, ...args]);
const bucketDir = () => join(localWorkspace(root).s3Directory, localWorkspace(root).bucket);
const onDisk = (key: string) => join(bucketDir(), `${key}${S3RVER_SUFFIX}`);

function request(tenant: string, date: string): ReportRequest {
  return { vendor: 'acme', tenant, report: 'users', date, runId: `run-${tenant}-${date}` };
}

/** Archives one small CSV report per request with the real archiver; returns the manifests. */
async function archive(requests: readonly ReportRequest[]): Promise<Record<string, unknown>[]> {
  const workspace = localWorkspace(root);
  prepareWorkspace(workspace);
  const s3 = await startLocalS3(workspace.s3Directory, workspace.bucket);
  const manifests: Record<string, unknown>[] = [];
  try {
    for (const r of requests) {
      const csv = `id,name,note,city\n${r.tenant},Ann,${r.date},Paris\n`;
      const source = {
        fileName: 'users.csv',
        role: 'data' as const,
        open: async () => ({ body: Readable.from([Buffer.from(csv)]), contentType: 'text/csv' }),
      };
      await archiveReport(archiveInput(r, [source]), {
        s3: s3.client,
        bucket: s3.bucket,
        tmpDir: workspace.tmpDir,
        logger: capturedLogger().logger,
        now: () => new Date('2026-11-22T01:02:03.000Z'),
        limits: LIMITS,
        softwareVersion: 'test',
      });
      const text = await readFile(onDisk(manifestKey(r)), 'utf8');
      manifests.push(JSON.parse(text) as Record<string, unknown>);
    }
  } finally {
    await s3.close();
  }
  return manifests;
}

async function flipOneByte(path: string, at: number): Promise<void> {
  const file = await open(path, 'r+');
  try {
    const byte = Buffer.alloc(1);
    await file.read(byte, 0, 1, at);
    byte[0] = (byte[0] as number) ^ 0x01;
    await file.write(byte, 0, 1, at);
  } finally {
    await file.close();
  }
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'verify-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('npm run verify', () => {
  it('passes a clean archive, reading every object each manifest names', async () => {
    await archive([request('t1', '2026-11-20'), request('t2', '2026-11-21')]);
    const result = await verify();
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^2 manifests; 4 objects .* read again and found as described/m);
    expect(result.stdout).toMatch(/retention not checked: this bucket has no Object Lock/);
    expect(result.stdout).toMatch(/OK: every object matches its manifest/);
  });

  it('fails and names the original when one byte of it changed on disk', async () => {
    const [manifest] = await archive([request('t1', '2026-11-20'), request('t2', '2026-11-21')]);
    const original = (manifest?.originals as { key: string }[] | undefined)?.[0]?.key as string;
    await flipOneByte(onDisk(original), 5);
    const result = await verify();
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`MISMATCH ${original}`);
    expect(result.stdout).toMatch(/FAILED: 1 problem$/m);
    const json = JSON.parse((await verify('--json')).stdout) as { problems: { kind: string; key: string }[] };
    expect(json.problems).toEqual([expect.objectContaining({ kind: 'mismatch', key: original })]);
  });

  it('fails on a missing object and on an unreadable manifest, naming each', async () => {
    const [first, second] = await archive([request('t1', '2026-11-20'), request('t2', '2026-11-21')]);
    const data = (first?.data as { key: string } | undefined)?.key as string;
    await unlink(onDisk(data));
    const broken = manifestKey(request('t2', '2026-11-21'));
    writeFileSync(onDisk(broken), '{"schema_version":');
    expect(second).toBeDefined();
    const result = await verify();
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`MISSING ${data}`);
    expect(result.stdout).toContain(`UNREADABLE MANIFEST ${broken}`);
  });

  it('fails on a manifest that names the objects of another attempt, which the tables would then show', async () => {
    const r = request('t1', '2026-11-20');
    const [first] = await archive([r]);
    await archive([r]);
    // the published manifest, changed to name the first attempt's (now unreferenced) objects
    const published = JSON.parse(await readFile(onDisk(manifestKey(r)), 'utf8')) as Record<string, unknown>;
    const forged = { ...published, data: first?.data, originals: first?.originals };
    writeFileSync(onDisk(manifestKey(r)), `${JSON.stringify(forged)}\n`);
    const result = await verify('--tenant', 't1');
    expect(result.code, result.stdout).toBe(1);
    expect(result.stdout).toContain(`UNREADABLE MANIFEST ${manifestKey(r)}`);
    const firstData = (first?.data as { key: string } | undefined)?.key as string;
    expect(result.stdout).toContain(`names data ${firstData}; expected data/`);
  });

  it("fails on a manifest whose tenant is not its key's (Athena and DuckDB would file it differently)", async () => {
    const r = request('t1', '2026-11-20');
    await archive([r]);
    const published = JSON.parse(await readFile(onDisk(manifestKey(r)), 'utf8')) as Record<string, unknown>;
    writeFileSync(onDisk(manifestKey(r)), `${JSON.stringify({ ...published, tenant: 't2' })}\n`);
    const result = await verify('--tenant', 't1');
    expect(result.code, result.stdout).toBe(1);
    expect(result.stdout).toContain(`UNREADABLE MANIFEST ${manifestKey(r)}`);
    expect(result.stdout).toContain('says tenant "t2"; its key says "t1"');
  });

  it('fails a filtered check on an original rewritten together with its manifest: the signed digest names it', async () => {
    // Prepare: archived and signed; then one byte of the original changed and the manifest made to match
    const r = request('t1', '2026-11-20');
    const [manifest = {}] = await archive([r]);
    const workspace = localWorkspace(root);
    const s3 = await startLocalS3(workspace.s3Directory, workspace.bucket);
    await writeLocalDigest(s3, workspace, { print: () => undefined, printError: () => undefined }).finally(() =>
      s3.close(),
    );
    const originals = manifest.originals as Record<string, unknown>[];
    const original = originals[0]?.key as string;
    await flipOneByte(onDisk(original), 0);
    const bytes = await readFile(onDisk(original));
    const forged = {
      ...manifest,
      originals: originals.map((o) => ({ ...o, sha256: sha256Hex(bytes) })),
    };
    writeFileSync(onDisk(manifestKey(r)), `${JSON.stringify(forged)}\n`);
    // Act
    const result = await verify('--tenant', 't1', '--from', '2026-11-20', '--to', '2026-11-20');
    // Assess
    expect(result.code, result.stdout).toBe(1);
    expect(result.stdout).toMatch(new RegExp(`DIGEST ${manifestKey(r).replace(/[.]/g, '\\.')}`));
  });

  it('lists an object no manifest names, without failing', async () => {
    await archive([request('t1', '2026-11-20')]);
    const workspace = localWorkspace(root);
    const s3 = await startLocalS3(workspace.s3Directory, workspace.bucket);
    const orphan = 'data/vendor=acme/report=users/dt=2026-11-20/tenant=t1/crashed-attempt.jsonl.gz';
    try {
      await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: orphan, Body: 'x' }));
    } finally {
      await s3.close();
    }
    const result = await verify();
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toContain(`UNREFERENCED (no manifest names it) ${orphan}`);
  });

  it('reads only the vendor, tenant and dates asked for', async () => {
    await archive([request('t1', '2026-11-20'), request('t2', '2026-11-21'), request('t1', '2026-11-22')]);
    expect((await verify('--vendor', 'acme', '--tenant', 't1')).stdout).toMatch(/^2 manifests; 4 objects/m);
    expect((await verify('--from', '2026-11-21', '--to', '2026-11-21')).stdout).toMatch(/^1 manifests; 2 objects/m);
    const none = await verify('--vendor', 'other');
    expect(none.stdout).toMatch(/^0 manifests; 0 objects/m);
    // a typo in a filter must not read as proof
    expect(none.code).toBe(1);
    expect(none.stdout).toContain('NOTHING CHECKED --vendor other');
  });

  it('refuses a bad command line, and says to run npm start when there is no archive', async () => {
    expect((await verify('--from', '2026-02-30')).code).toBe(2);
    expect((await verify('--report', 'users')).stderr).toMatch(/--report needs --vendor/);
    const none = await runCommand(verifyCommand, ['--workspace', join(root, 'nothing-here')]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no local archive in .*nothing-here: run `npm start` first/);
  });

  it('refuses a --public-key file that is missing or not a public key, naming it', async () => {
    await archive([request('t1', '2026-11-20')]);
    const garbage = join(root, 'garbage.pem');
    writeFileSync(garbage, 'not a key');
    for (const file of [join(root, 'missing.pem'), garbage]) {
      const result = await verify('--public-key', file);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain(`--public-key ${file}: not a readable PEM or DER public key`);
    }
  });

  it('exits 2, not 1 (a mismatch), when the deployed stack cannot be read', async () => {
    // Prepare: CloudFormation's endpoint is a closed port on loopback
    vi.stubEnv('AWS_ENDPOINT_URL_CLOUDFORMATION', 'http://127.0.0.1:1');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
    vi.stubEnv('AWS_MAX_ATTEMPTS', '1');
    try {
      // Act
      const args = ['--config', 'config/example.json', '--region', 'us-east-1'];
      const result = await runCommand(verifyCommand, args);
      // Assess
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/stack "\S+" could not be read \(.*ECONNREFUSED.*\): check AWS credentials/);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
