import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // DynamoDB Local and fauxqs are started once for the run; each test file provisions its own resources.
    globalSetup: ['test/support/global-emulators.ts'],
    // The SDK's Node-version notice, once per worker, is noise here (the lock file pins the SDK).
    setupFiles: ['local/quiet-sdk-warning.ts'],
    env: {
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      AWS_REGION: 'eu-central-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      NODE_OPTIONS: '--disable-warning=NodeVersionSupportWarning',
    },
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
