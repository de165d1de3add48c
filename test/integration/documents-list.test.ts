import { randomUUID } from 'node:crypto';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoDbDocumentStore } from '../../lambdas/adapters/dynamodb-documents';
import { documentClient } from '../../lambdas/adapters/dynamodb-store';
import { applyMessage, type DocumentState, documentMessageOf, emptyDocument, PROJECTION_VERSION } from '../../lambdas/documents/projection';
import { DOCUMENTS, updatedHourOf, updatedPartitionOf } from '../../contract/shapes';
import { provision, type Resources } from '../../local/provision';
import { dynamoClient } from '../support/aws';

/*
 * The documents table's `updated` index keeps only the hour of a document's last save (so a second save within
 * the hour does not write the index): listing by `since` must still be exact to the millisecond and filter by
 * stage state, for documents saved now and for those saved before, which carry a full time and `states`.
 */

const emulators = inject('emulators');

describe('listing documents by when they were saved, on the emulator', () => {
  let resources: Resources;
  const store = () => new DynamoDbDocumentStore(dynamoClient(emulators.dynamodb), resources.documentsTableName);
  const rawItem = async (documentId: string) =>
    (
      await documentClient(dynamoClient(emulators.dynamodb)).send(
        new GetCommand({ TableName: resources.documentsTableName, Key: { documentId }, ConsistentRead: true }),
      )
    ).Item;
  // Times inside the current UTC hour, so every save lands in one hour of the index.
  const hour = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000);
  const at = (minutes: number) => new Date(hour.getTime() + minutes * 60_000).toISOString();

  const remd = (documentId: string, status: 'Success' | 'Failed', regNumber?: string): DocumentState =>
    applyMessage(
      emptyDocument(documentId),
      documentMessageOf({
        messageId: randomUUID(),
        messageType: 'REMDStatus',
        status,
        receivedAt: at(0),
        payload: { Message: 'x', ...(regNumber ? { RemdRegNumber: regNumber } : {}) },
      }),
    );
  const listed = async (query: Parameters<DynamoDbDocumentStore['list']>[0], ours: readonly string[]) =>
    (await store().list(query))
      .map((d) => d.documentId)
      .filter((id) => ours.includes(id))
      .sort();

  beforeAll(async () => {
    resources = await provision(
      { dynamodb: emulators.dynamodb, sqs: emulators.sqs, s3: emulators.sqs },
      { prefix: `doclist-${Date.now()}` },
    );
  });

  it('keeps the hour of the last save in the index and nothing that changes per message, however often a document is saved', async () => {
    const id = `doc-${randomUUID()}`;
    expect(await store().save(remd(id, 'Failed'), undefined, at(1))).toBe(true);
    expect(await store().save(remd(id, 'Success', 'REG-1'), 1, at(2))).toBe(true);
    const item = await rawItem(id);
    expect(item).toMatchObject({
      [DOCUMENTS.updatedIndex.partitionKey]: updatedPartitionOf(at(2), id),
      [DOCUMENTS.updatedIndex.sortKey]: updatedHourOf(at(2)),
      savedAt: at(2),
    });
    expect(item).not.toHaveProperty('states');
  });

  it('lists the documents saved at or after `since` to the millisecond, though the index knows only the hour', async () => {
    const early = `doc-${randomUUID()}`;
    const late = `doc-${randomUUID()}`;
    await store().save(remd(early, 'Failed'), undefined, at(10));
    await store().save(remd(late, 'Failed'), undefined, at(20));
    expect(await listed({ since: at(15), limit: 100 }, [early, late])).toEqual([late]);
    expect(await listed({ since: at(10), limit: 100 }, [early, late])).toEqual([early, late].sort());
  });

  it('lists by stage state read from the documents, and stops at the limit', async () => {
    const failed = `doc-${randomUUID()}`;
    const registered = `doc-${randomUUID()}`;
    await store().save(remd(failed, 'Failed'), undefined, at(30));
    await store().save(remd(registered, 'Success', 'REG-2'), undefined, at(30));
    const ours = [failed, registered];
    expect(await listed({ since: at(29), stage: 'remd', state: 'failed', limit: 100 }, ours)).toEqual([failed]);
    expect(await listed({ since: at(29), stage: 'remd', state: 'registered', limit: 100 }, ours)).toEqual([registered]);
    expect(await listed({ since: at(29), stage: 'cda', limit: 100 }, ours)).toEqual([]);
    expect((await store().list({ since: at(29), limit: 1 })).length).toBe(1);
  });

  it('lists a document saved before the index took the hour by its full `writtenAt` and its stored state', async () => {
    const old = `doc-${randomUUID()}`;
    const state = remd(old, 'Failed');
    await documentClient(dynamoClient(emulators.dynamodb)).send(
      new PutCommand({
        TableName: resources.documentsTableName,
        Item: {
          documentId: old,
          version: 1,
          projection: PROJECTION_VERSION,
          decisive: state.messages,
          timeline: state.timeline,
          expectations: {},
          states: { remd: 'failed' },
          writtenAt: at(40),
          [DOCUMENTS.updatedIndex.partitionKey]: updatedPartitionOf(at(40), old),
        },
      }),
    );
    expect(await listed({ since: at(39), stage: 'remd', state: 'failed', limit: 100 }, [old])).toEqual([old]);
    expect(await listed({ since: at(41), limit: 100 }, [old])).toEqual([]);
  });
});
