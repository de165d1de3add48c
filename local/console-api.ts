import { readFileSync } from 'node:fs';
import { MESSAGE_TYPES } from '../contract/catalog';
import { LOCAL_REGION } from '../contract/local';
import { consoleEndpoints as siteEndpoints } from '../console/data';
import { localDynamoDb, localS3, localSqs } from './clients';
import type { LocalEndpoint } from './gateway';
import type { Resources } from './provision';

/*
 * What the local console (/_local/) reads: the console's data (console/data.ts, shared with `n3-callback console
 * --site`) over the emulators, and the examples its "send an example" buttons post (npm start only: a deployed
 * site's console sends nothing).
 */

const EXAMPLES = Object.fromEntries(
  MESSAGE_TYPES.map((type) => [type, JSON.parse(readFileSync(new URL(`../examples/${type}.json`, import.meta.url), 'utf8')) as unknown]),
);

export function consoleEndpoints(options: {
  dynamodb: string;
  sqs: string;
  resources: Resources;
  siteId?: string;
}): Record<string, LocalEndpoint> {
  const { resources } = options;
  return {
    ...siteEndpoints(
      {
        dynamodb: localDynamoDb(options.dynamodb),
        sqs: localSqs(options.sqs),
        s3: localS3(options.sqs),
        tableName: resources.tableName,
        bucket: resources.bucket,
        queueUrl: resources.queueUrl,
        dlqUrl: resources.dlqUrl,
      },
      { siteId: options.siteId ?? 'local', kind: 'local', region: LOCAL_REGION },
    ),
    examples: () => EXAMPLES,
  };
}
