import { rmSync } from 'node:fs';
import { build } from 'esbuild';

/*
 * `npm run build` (also run by `npm ci` through `prepare`): the consumer library as plain
 * JavaScript with type declarations, so an MIS service imports `n3-callback-endpoint/consumer`
 * with no TypeScript tooling. Dependencies stay external: the MIS installs its own AWS SDK.
 */
rmSync('dist', { recursive: true, force: true });
await build({
  entryPoints: ['consumer/index.ts'],
  outfile: 'dist/consumer.js',
  bundle: true,
  packages: 'external',
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
});
console.log('built dist/consumer.js');
