import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['./scripts/node-polyfills.ts'],
    pool: 'forks',
    // vitest's default on this 2-core machine is one worker (cores - 1); the test files are
    // independent (own temp dirs, ports chosen by the OS), so two run at once
    maxWorkers: 2,
    // Test files share their worker's module cache instead of importing the SDK, CDK, DuckDB and
    // the state machine runner afresh (half the suite's CPU time went to imports). The rule that
    // buys: a file undoes what it patches process-wide (an aws-sdk-client-mock `mockClient` is
    // restored in `afterAll`; environment variables are put back; modules are re-imported
    // with vi.resetModules where a test needs a cold start).
    isolate: false,
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
