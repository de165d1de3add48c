import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoDbDocumentStore } from '../../lambdas/adapters/dynamodb-documents';
import { documentClient } from '../../lambdas/adapters/dynamodb-store';
import { documentMessageOf } from '../../lambdas/documents/projection';
import { expectStage, project, waitingLadder } from '../../lambdas/documents/service';
import { DOCUMENTS, updatedPartitionOf } from '../../contract/shapes';
import { provision, type Resources } from '../../local/provision';
import { dynamoClient } from '../support/aws';

/*
 * The age ladder as the adapter reads it on DynamoDB Local: from the documents table's `updated` index alone
 * (`states.waiting`), over every day and shard of the retention window; and a document written before
 * `waiting` existed counts from its last write.
 */

const emulators = inject('emulators');
const HOUR = 3_600_000;
const DAY = 86_400_000;

describe('the age ladder on the documents table', () => {
  let resources: Resources;
  let store: DynamoDbDocumentStore;
  beforeAll(async () => {
    resources = await provision(
      { dynamodb: emulators.dynamodb, sqs: emulators.sqs, s3: emulators.sqs },
      { prefix: `ladder-${Date.now()}` },
    );
    store = new DynamoDbDocumentStore(dynamoClient(emulators.dynamodb), resources.documentsTableName);
  });

  it('counts waits from the index, by rung and stage, older documents from their last write', async () => {
    const now = new Date();
    const ago = (ms: number) => new Date(now.getTime() - ms).toISOString();
    const news = (id: string, documentId: string, agoMs: number, payload: Record<string, unknown> = {}) => ({
      documentId,
      message: documentMessageOf({ messageId: id, messageType: 'REMDStatus', status: 'Success', receivedAt: ago(agoMs), payload }),
    });
    await project(
      store,
      [news('m1', 'fresh', 2 * 60_000), news('m2', 'days', 3 * DAY), news('m3', 'done', HOUR, { RemdRegNumber: '9' })],
      now.toISOString(),
    );
    // Written 20 days ago by a version that stored no `waiting`: REMD awaiting, counted from that write.
    const writtenAt = ago(20 * DAY);
    await documentClient(dynamoClient(emulators.dynamodb)).send(
      new PutCommand({
        TableName: resources.documentsTableName,
        Item: {
          [DOCUMENTS.partitionKey]: 'legacy',
          version: 1,
          projection: 2,
          decisive: [],
          timeline: [],
          expectations: {},
          states: { remd: 'awaiting' },
          writtenAt,
          [DOCUMENTS.updatedIndex.partitionKey]: updatedPartitionOf(writtenAt, 'legacy'),
        },
      }),
    );
    await expectStage(store, 'expected', 'semd', ago(-DAY), now.toISOString(), 90);
    const ladder = await waitingLadder(store, now, 90);
    expect(ladder.total).toBe(4);
    expect(ladder.rungs).toEqual({ '5m': 2, '1h': 0, '1d': 0, '7d': 1, '15d': 0, none: 1 });
    expect(ladder.byStage).toEqual({
      remd: { '5m': 1, '1h': 0, '1d': 0, '7d': 1, '15d': 0, none: 1 },
      semd: { '5m': 1, '1h': 0, '1d': 0, '7d': 0, '15d': 0, none: 0 },
    });
    expect(ladder.oldest[0]).toEqual({ documentId: 'legacy', stage: 'remd', since: writtenAt });
  });
});
