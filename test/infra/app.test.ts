/**
 * bin/app.ts as `cdk synth` runs it: a bad config ends the app with the formatted message naming
 * the field, exit code 1 and no stack trace.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

function writeConfig(content: unknown): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bad-config-'));
  const file = path.join(dir, 'config.json');
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

// Both runs start at once: each is a fresh Node process loading aws-cdk-lib.
const invalid = writeConfig({
  archive: { objectLock: { mode: 'GOVERNANCE', days: 0 } },
  alerts: { topicName: 'has spaces' },
  vendors: {},
});
const missing = path.join(os.tmpdir(), 'no-such-dir', 'config.json');
let invalidRun: Run;
let missingRun: Run;

beforeAll(async () => {
  [invalidRun, missingRun] = await Promise.all([runApp(invalid), runApp(missing)]);
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

  it('says which file it could not read', () => {
    expect(missingRun.code).toBe(1);
    expect(missingRun.stderr).toContain(`cannot read config file ${missing}`);
    expect(missingRun.stderr).not.toMatch(/^\s+at /m);
  });
});
