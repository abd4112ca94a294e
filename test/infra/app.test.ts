/**
 * bin/app.ts as `cdk synth` runs it: a bad config ends the app with the formatted message naming
 * the field, exit code 1 and no stack trace. One case runs it as its own Node process; the other
 * imports it here, with `process.exit` and `console.error` stubbed, which costs no second Node
 * process loading aws-cdk-lib.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ROOT } from './support.ts';

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs bin/app.ts with `--context config=<file>`, the way the CDK CLI passes context. */
function runApp(configPath: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'bin', 'app.ts')],
      {
        cwd: ROOT,
        env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify({ config: configPath }) },
        timeout: 60_000,
      },
      (error, stdout, stderr) => resolve({ code: error ? (error.code as number | null) : 0, stdout, stderr }),
    );
  });
}

/** What `process.exit` throws in the in-process run, so the app stops where a process would. */
class Exited extends Error {
  constructor(readonly code: number | string | null | undefined) {
    super(`process.exit(${code})`);
  }
}

/** Imports bin/app.ts in this process with the CLI's context variable; returns what a process would show. */
async function importApp(configPath: string): Promise<Run> {
  vi.resetModules();
  vi.stubEnv('CDK_CONTEXT_JSON', JSON.stringify({ config: configPath }));
  vi.spyOn(process, 'exit').mockImplementation((code) => {
    throw new Exited(code);
  });
  const printed: string[] = [];
  vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
    printed.push(args.map(String).join(' '));
  });
  const outcome = await import('../../bin/app.ts').then(
    () => undefined,
    (error: unknown) => error,
  );
  // anything but our own exit would have been an uncaught error: a stack trace in a real process
  if (outcome !== undefined && !(outcome instanceof Exited)) throw outcome;
  return { code: outcome ? Number(outcome.code ?? 0) : 0, stdout: '', stderr: printed.join('\n') };
}

function writeConfig(content: unknown): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bad-config-'));
  const file = path.join(dir, 'config.json');
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

const invalid = writeConfig({
  archive: { objectLock: { mode: 'GOVERNANCE', days: 0 } },
  alerts: { topicName: 'has spaces' },
  vendors: {},
});
const missing = path.join(os.tmpdir(), 'no-such-dir', 'config.json');
let invalidRun: Run;

beforeAll(async () => {
  invalidRun = await runApp(invalid);
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

afterAll(() => fs.rmSync(path.dirname(invalid), { recursive: true, force: true }));

describe('bin/app.ts with a bad config', () => {
  it('names every bad field, exits 1 and prints no stack trace', () => {
    expect(invalidRun.code).toBe(1);
    expect(invalidRun.stderr).toContain(`invalid configuration in ${invalid}`);
    expect(invalidRun.stderr).toMatch(/archive\.objectLock\.days: /);
    expect(invalidRun.stderr).toMatch(/alerts\.topicName: /);
    expect(invalidRun.stderr).not.toMatch(/^\s+at /m);
  });

  it('says which file it could not read', async () => {
    // Act
    const missingRun = await importApp(missing);
    // Assess
    expect(missingRun.code).toBe(1);
    expect(missingRun.stderr).toContain(`cannot read config file ${missing}`);
    expect(missingRun.stderr).not.toMatch(/^\s+at /m);
  });
});
