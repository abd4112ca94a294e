import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['./scripts/node-polyfills.ts'],
    pool: 'forks',
    // vitest's default on this 2-core machine is one worker (cores - 1); the test files are
    // independent (own temp dirs, ports chosen by the OS), so two run at once
    maxWorkers: 2,
    // limits for a hung test, not for speed: with two workers sharing two cores that other work
    // also uses, a synth or pipeline test can take several times its time alone
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // the local S3 (s3rver) needs it for paged listings: see scripts/local/s3.ts
    execArgv: ['--openssl-legacy-provider'],
    env: {
      AWS_REQUEST_CHECKSUM_CALCULATION: 'when_required',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  },
});
