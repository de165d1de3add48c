#!/usr/bin/env node
// The CLI runs from its TypeScript source through tsx, so it is always the code in this checkout.
import { register } from 'tsx/esm/api';

// The AWS SDK warns about Node 20 on every start; every other warning still shows.
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (!`${warning.name} ${warning.message}`.includes('NodeVersionSupportWarning')) console.error(warning.stack ?? String(warning));
});
register();
const { run } = await import('./main.ts');
await run(process.argv.slice(2));
