/**
 * `npm start` killed with SIGKILL (kill -9) at a few points, then run again, converges to the
 * archive an uninterrupted run makes: every manifest parses and names objects that exist with its
 * SHA-256, every object's stored ETag and metadata are its own, nothing staged is left behind, and
 * the auditor queries answer the same.
 *
 * The kills come from test/local/kill-switch.mjs, preloaded into the killed runs only: while a
 * manifest is being written (the data of its report already stored: s3rver alone left a 0-byte
 * manifest there that broke every later plan), and just after a manifest moved into place but
 * before its metadata did. One tenant, one date and two kills keep the four runs short (each
 * killed run pays a Node start-up).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { definitionFor } from '../../lambdas/connectors/registry.ts';
import { STAGING_DIRECTORY } from '../../scripts/local/atomic-store.ts';
import { openArchiveCatalog } from '../../scripts/local/catalog.ts';
import { S3RVER_SUFFIX } from '../../scripts/local/s3.ts';
import { startCommand } from '../../scripts/local/start.ts';
import { type LocalWorkspace, localWorkspace, readCatalog } from '../../scripts/local/workspace.ts';
import { runCommand } from '../support/cli.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const KILL_SWITCH = pathToFileURL(join(import.meta.dirname, 'kill-switch.mjs')).href;
// two days back: inside OpenAthens' window, and no race with midnight UTC during the test
const DATE = new Date(Date.now() - 2 * 86_400_000).toISOString().slice(0, 10);
const RUN = ['--vendor', 'openathens', '--tenant', 'example-org', '--date', DATE];

interface StartResult {
  readonly code: number | null;
  /** the kill switch that fired, if one did */
  readonly killedAt?: string;
  readonly output: string;
}

/** `npm start` in a new process, as typed in a terminal; with a kill switch, killed by it. */
async function npmStart(workspace: string, killSwitch?: string): Promise<StartResult> {
  const mark = `${workspace}.killed`;
  await rm(mark, { force: true });
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (killSwitch) {
    env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --import=${KILL_SWITCH}`.trim();
    env.KILL_SWITCH = killSwitch;
    env.KILL_SWITCH_MARK = mark;
  }
  const child = spawn('npm', ['run', '--silent', 'start', '--', '--workspace', workspace, ...RUN], { cwd: ROOT, env });
  let output = '';
  child.stdout.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr.on('data', (chunk) => {
    output += chunk;
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const killedAt = await readFile(mark, 'utf8').catch(() => undefined);
  return { code, killedAt, output };
}

/** Every object of the workspace's bucket, by key: its bytes and the ETag and metadata stored with it. */
async function storedObjects(workspace: LocalWorkspace) {
  const bucketDir = join(workspace.s3Directory, workspace.bucket);
  const files = (await readdir(bucketDir, { recursive: true })).filter((name) => name.endsWith(S3RVER_SUFFIX));
  const objects = new Map<string, { bytes: Buffer; md5: string; metadata: string }>();
  for (const file of files) {
    const path = join(bucketDir, file);
    const base = path.slice(0, -S3RVER_SUFFIX.length);
    objects.set(file.slice(0, -S3RVER_SUFFIX.length), {
      bytes: await readFile(path),
      md5: await readFile(`${path}.md5`, 'utf8').catch(() => 'missing'),
      metadata: await readFile(`${base}._S3rver_metadata.json`, 'utf8').catch(() => 'missing'),
    });
  }
  return objects;
}

/** Every `{ key, sha256 }` a manifest names, wherever in it. */
function namedObjects(value: unknown): { key: string; sha256: string }[] {
  if (Array.isArray(value)) return value.flatMap(namedObjects);
  if (typeof value !== 'object' || value === null) return [];
  const record = value as Record<string, unknown>;
  const own =
    typeof record.key === 'string' && typeof record.sha256 === 'string'
      ? [record as { key: string; sha256: string }]
      : [];
  return [...own, ...Object.values(record).flatMap(namedObjects)];
}

/** What an auditor sees: the manifests' summary and every saved OpenAthens query. */
async function auditorAnswers(workspace: LocalWorkspace): Promise<unknown[]> {
  const catalog = await openArchiveCatalog({
    s3Directory: workspace.s3Directory,
    bucket: workspace.bucket,
    tables: readCatalog(workspace),
  });
  try {
    const sql = [
      'SELECT vendor, report, tenant, dt, row_count FROM report_manifests ORDER BY ALL',
      ...definitionFor('openathens').queries.map((q) => q.sql),
    ];
    const answers = [];
    for (const query of sql) answers.push((await catalog.query(query)).rows);
    return answers;
  } finally {
    catalog.close();
  }
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const md5 = (bytes: Buffer) => createHash('md5').update(bytes).digest('hex');

describe('npm start after kill -9', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kill-recovery-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('converges to the archive and the answers of an uninterrupted run', { timeout: 180_000 }, async () => {
    // Prepare
    const reference = localWorkspace(join(dir, 'uninterrupted'));
    const interrupted = localWorkspace(join(dir, 'interrupted'));
    // the runs that are not killed are the same command in this process (no Node start-up to pay)
    const uninterrupted = await runCommand(startCommand, ['--workspace', reference.root, ...RUN]);
    expect(uninterrupted.code, uninterrupted.stderr).toBe(0);
    // Act
    const killSwitches = [`open:manifest.json${S3RVER_SUFFIX}:1`, `rename:manifest.json${S3RVER_SUFFIX}:1`];
    const killed: StartResult[] = [];
    for (const killSwitch of killSwitches) killed.push(await npmStart(interrupted.root, killSwitch));
    const recovered = await runCommand(startCommand, ['--workspace', interrupted.root, ...RUN]);
    // Assess
    expect(recovered.code, recovered.stderr).toBe(0);
    expect(await readdir(join(interrupted.s3Directory, STAGING_DIRECTORY)).catch(() => [])).toEqual([]);
    const objects = await storedObjects(interrupted);
    const expected = await storedObjects(reference);
    // Each attempt writes under a key of its own, so a killed attempt's objects stay beside the
    // recovered ones (named by no manifest, as in S3): the published reports must be the same.
    const manifests = (keys: Iterable<string>) => [...keys].filter((key) => key.endsWith('manifest.json')).sort();
    expect(manifests(objects.keys())).toEqual(manifests(expected.keys()));
    for (const [key, object] of objects) {
      expect({ key, md5: object.md5 }).toEqual({ key, md5: md5(object.bytes) });
      if (!key.endsWith('manifest.json')) continue;
      expect(object.metadata).toEqual(expected.get(key)?.metadata);
      for (const named of namedObjects(JSON.parse(object.bytes.toString('utf8')))) {
        const bytes = objects.get(named.key)?.bytes;
        expect({ key: named.key, sha256: bytes && sha256(bytes) }).toEqual({ key: named.key, sha256: named.sha256 });
      }
    }
    expect(await auditorAnswers(interrupted)).toEqual(await auditorAnswers(reference));
    // last, so that a run the switch missed still shows what its kill would have left
    expect(killed.map((run) => run.killedAt)).toEqual(killSwitches);
  });
});
