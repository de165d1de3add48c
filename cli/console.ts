import { readFileSync } from 'node:fs';
import { createDocumentsClient } from '../consumer/documents';
import { consoleEndpoints, type SiteLabel } from '../console/data';
import { scanFleet, type FleetSiteSource } from '../console/fleet';
import { type ConsoleSite, type RunningConsole, startConsoleServer } from '../console/server';
import { loadSites } from '../lib/site-files';
import { resolveTarget, requireValue, type Target } from './target';
import { UsageError } from './errors';

/*
 * `n3-callback console --site <id>` and `n3-callback console --fleet`: npm start's console, served on 127.0.0.1
 * by this process for deployed sites, each found by its stack outputs (--site, cli/site.ts) and read with the
 * operator's own credentials: the table, queue and bucket as every CLI command reads them, documents through the
 * site's document API (SigV4-signed). Nothing is deployed, nothing listens beyond loopback.
 */

/** A site's console: its clients and names from `--site` (CloudFormation), its label for the page. */
export async function consoleSite(siteId: string, env = process.env): Promise<ConsoleSite & { source: FleetSiteSource }> {
  const target = await resolveTarget({ site: siteId }, env);
  const site = target.site!;
  const label: SiteLabel = {
    siteId,
    kind: 'deployed',
    stackName: site.stackName,
    region: site.region,
    ...(site.account ? { account: site.account } : {}),
  };
  const resources = resourcesOf(target);
  const documents = createDocumentsClient({ baseUrl: target.documentsApiUrl, region: site.region });
  return {
    label,
    // A deployed site's console sends nothing: no examples to post.
    endpoints: { ...consoleEndpoints(resources, label), examples: () => ({}) },
    documents: { get: (id) => documents.getDocument(id), ladder: () => documents.ladder() },
    source: { label, resources },
  };
}

function resourcesOf(target: Target): FleetSiteSource['resources'] {
  return {
    dynamodb: target.dynamodb,
    s3: target.s3,
    sqs: target.sqs,
    tableName: requireValue(target.tableName, 'the table (TableName output)'),
    bucket: requireValue(target.bucket, 'the bucket (BucketName output)'),
    queueUrl: requireValue(target.queueUrl, 'the MIS queue (QueueUrl output)'),
    dlqUrl: requireValue(target.dlqUrl, 'the dead-letter queue (DlqUrl output)'),
    ...(target.documentsTableName ? { documentsTableName: target.documentsTableName } : {}),
  };
}

/** The fleet's site ids, read as `cdk` and `fleet plan` read them: cdk.json context `sites`, then `sites/<id>.json`. */
export function configuredSiteIds(): string[] {
  const { context } = JSON.parse(readFileSync(new URL('../cdk.json', import.meta.url), 'utf8')) as { context: Record<string, unknown> };
  return loadSites({ context: context.sites, sitesDir: context.sitesDir as string | undefined }).map((site) => site.id);
}

export async function serveConsole(options: {
  siteId?: string;
  fleet?: readonly string[];
  port?: number;
  env?: NodeJS.ProcessEnv;
}): Promise<RunningConsole> {
  const env = options.env ?? process.env;
  const resolved = new Map<string, ReturnType<typeof consoleSite>>();
  const siteOf = (id: string) => {
    let site = resolved.get(id);
    if (!site) {
      site = consoleSite(id, env);
      site.catch(() => resolved.delete(id));
      resolved.set(id, site);
    }
    return site;
  };
  let fleet: ReturnType<typeof scanFleet> | undefined;
  return startConsoleServer({
    ...(options.siteId ? { siteId: options.siteId } : {}),
    siteOf,
    ...(options.fleet
      ? {
          // The first visit starts the scan; ?refresh=1 starts another once it has finished.
          fleet: (query) => {
            if (!fleet || (query.get('refresh') === '1' && fleet.scan().finishedAt)) {
              fleet = scanFleet(options.fleet!, async (id) => (await siteOf(id)).source, { explain: rowError });
            }
            return fleet.scan();
          },
        }
      : {}),
    ...(options.port !== undefined ? { port: options.port } : {}),
  });
}

/** A fleet row's error: the one line a UsageError already is (not deployed, no region…), else the error's name and first line. */
const rowError = (error: Error) => (error instanceof UsageError ? error.message : `${error.name}: ${error.message.split('\n')[0]}`);
