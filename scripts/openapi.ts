import { writeFileSync } from 'node:fs';
import { buildOpenApi } from '../lambdas/protocol/openapi';

// `npm run openapi`: regenerates the committed contract; a test fails when it is stale.
const target = new URL('../docs/openapi.json', import.meta.url);
writeFileSync(target, `${JSON.stringify(buildOpenApi(), null, 2)}\n`);
console.log(`wrote ${target.pathname}`);
