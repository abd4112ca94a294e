import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['./scripts/node-polyfills.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // the local S3 (s3rver) needs it for paged listings: see scripts/local/s3.ts
    execArgv: ['--openssl-legacy-provider'],
    env: {
      AWS_REQUEST_CHECKSUM_CALCULATION: 'when_required',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  },
});
