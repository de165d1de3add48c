import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { QUEUE } from '../../contract/shapes';
import { buildAsyncApi } from '../../contract/asyncapi';
import { buildOpenApi } from '../../contract/openapi';
import { buildJsonSchemas } from '../../contract/schemas';

// `npm run contracts` (alias `npm run openapi`): regenerates the committed contracts from the catalog;
// tests fail when one is stale. docs/openapi.json (HTTP), docs/schemas/*.json (the queue, JSON Schema 2020-12),
// docs/asyncapi.json (the queue as a channel: AsyncAPI 3).
const write = (url: URL, document: unknown) => {
  writeFileSync(url, `${JSON.stringify(document, null, 2)}\n`);
  console.log(`wrote ${url.pathname}`);
};

write(new URL('../../docs/openapi.json', import.meta.url), buildOpenApi());

const schemasDir = new URL('../../docs/schemas/', import.meta.url);
mkdirSync(schemasDir, { recursive: true });
const schemas = buildJsonSchemas();
// A file the catalog no longer produces would go on looking published.
for (const name of readdirSync(schemasDir)) if (!(name in schemas)) rmSync(new URL(name, schemasDir));
for (const [name, schema] of Object.entries(schemas)) write(new URL(name, schemasDir), schema);

write(new URL('../../docs/asyncapi.json', import.meta.url), buildAsyncApi(QUEUE));
