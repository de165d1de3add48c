import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Stage } from '../contract/documents';
import { StoreUnavailableError } from '../errors';
import type { DocumentQuery, DocumentStore, VersionedDocument } from '../documents/ports';
import { type DocumentMessage, type DocumentState, nextDueOf, statesOf } from '../documents/projection';
import { batchGetAll, documentClient, queryAll } from './dynamodb-store';
import { DOCUMENTS, duePartitionOf, duePartitions, updatedPartitionOf, updatedPartitions, utcDays } from './shapes';

/*
 * The documents table: one item per document — its messages' facts (never a payload body), the
 * MIS's expectations, the derived stage states (for filtering), an optimistic-lock version, and the
 * keys of the `updated` and (while an expectation is unmet) `due` indexes.
 */

type Item = Record<string, unknown>;

export class DynamoDbDocumentStore implements DocumentStore {
  private readonly client: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.client = documentClient(client);
  }

  async get(documentId: string): Promise<VersionedDocument | undefined> {
    try {
      const { Item } = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: { [DOCUMENTS.partitionKey]: documentId }, ConsistentRead: true }),
      );
      return Item ? { state: stateOf(Item), version: Number(Item.version) } : undefined;
    } catch (error) {
      throw new StoreUnavailableError('document get failed', { cause: error });
    }
  }

  async save(state: DocumentState, expectedVersion: number | undefined, now: string): Promise<boolean> {
    const nextDue = nextDueOf(state);
    const item: Item = {
      [DOCUMENTS.partitionKey]: state.documentId,
      version: (expectedVersion ?? 0) + 1,
      messages: state.messages,
      expectations: state.expectations,
      states: statesOf(state),
      writtenAt: now,
      [DOCUMENTS.updatedIndex.partitionKey]: updatedPartitionOf(now, state.documentId),
      ...(nextDue ? { [DOCUMENTS.dueIndex.partitionKey]: duePartitionOf(state.documentId), [DOCUMENTS.dueIndex.sortKey]: nextDue } : {}),
    };
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ...(expectedVersion === undefined
            ? { ConditionExpression: 'attribute_not_exists(#id)', ExpressionAttributeNames: { '#id': DOCUMENTS.partitionKey } }
            : {
                ConditionExpression: '#v = :v',
                ExpressionAttributeNames: { '#v': 'version' },
                ExpressionAttributeValues: { ':v': expectedVersion },
              }),
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw new StoreUnavailableError('document save failed', { cause: error });
    }
  }

  async list(query: DocumentQuery): Promise<DocumentState[]> {
    const { updatedIndex, partitionKey } = DOCUMENTS;
    const ids: string[] = [];
    try {
      // Recent days first: they are what people ask for, and the limit may be reached before the oldest.
      for (const day of utcDays(query.since, new Date().toISOString()).reverse()) {
        const pages = await Promise.all(
          updatedPartitions(day).map((partition) =>
            queryAll(this.client, this.tableName, {
              IndexName: updatedIndex.name,
              KeyConditionExpression: '#day = :day AND #at >= :since',
              ExpressionAttributeNames: { '#day': updatedIndex.partitionKey, '#at': updatedIndex.sortKey },
              ExpressionAttributeValues: { ':day': partition, ':since': query.since },
            }),
          ),
        );
        for (const item of pages.flat().flatMap((page) => page.Items ?? [])) {
          const states = (item.states ?? {}) as Partial<Record<Stage, string>>;
          if (query.stage && (query.state ? states[query.stage] !== query.state : states[query.stage] === undefined)) continue;
          ids.push(String(item[partitionKey]));
        }
        if (ids.length >= query.limit) break;
      }
      return this.batchGet(ids.slice(0, query.limit));
    } catch (error) {
      throw new StoreUnavailableError('document list failed', { cause: error });
    }
  }

  async due(now: string, limit: number): Promise<DocumentState[]> {
    const { dueIndex, partitionKey } = DOCUMENTS;
    try {
      const pages = await Promise.all(
        duePartitions().map((partition) =>
          this.client.send(
            new QueryCommand({
              TableName: this.tableName,
              IndexName: dueIndex.name,
              KeyConditionExpression: '#shard = :shard AND #due <= :now',
              ExpressionAttributeNames: { '#shard': dueIndex.partitionKey, '#due': dueIndex.sortKey },
              ExpressionAttributeValues: { ':shard': partition, ':now': now },
              Limit: limit,
            }),
          ),
        ),
      );
      const ids = pages.flatMap((page) => page.Items ?? []).map((item) => String(item[partitionKey]));
      return this.batchGet(ids.slice(0, limit));
    } catch (error) {
      throw new StoreUnavailableError('document due failed', { cause: error });
    }
  }

  private async batchGet(ids: readonly string[]): Promise<DocumentState[]> {
    return (await batchGetAll(this.client, this.tableName, DOCUMENTS.partitionKey, ids)).map(stateOf);
  }
}

function stateOf(item: Item): DocumentState {
  return {
    documentId: String(item[DOCUMENTS.partitionKey]),
    messages: (item.messages ?? []) as DocumentMessage[],
    expectations: (item.expectations ?? {}) as DocumentState['expectations'],
  };
}
