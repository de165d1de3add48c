import { randomUUID } from 'node:crypto';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { S3PayloadStore } from '../../lambdas/adapters/s3-bucket';
import { MAX_INLINE_PAYLOAD_BYTES } from '../../contract/limits';
import { PayloadStoreUnavailableError } from '../../contract/errors';
import { ingest, type IngestSettings } from '../../lambdas/ingest/ingest';
import { parseMessage } from '../../contract/catalog';
import { localClientConfig, localS3 } from '../../local/clients';
import { listKeys } from '../support/aws';
import { InMemoryQueue, InMemoryStore } from '../../testing/fakes';
import { freshMessage } from '../../testing/messages';

/*
 * Finding: 50 concurrent deliveries of one 3 MB CDAStatus (one process, as under `npm start` and in the
 * tests) answered 503 to 5–43 of them. Every 503 was the S3 PutObject's connect timeout: each delivery
 * uploaded the same object, and the 50 uploads' CPU work (copy, signing hash, checksum) held the event
 * loop for seconds, so the SDK's 1 s connect timers fired before their sockets' connect events were read.
 * The defence: deliveries of one payload share one upload. These tests count the uploads, which does not
 * depend on the machine's speed; test/integration/receive.test.ts (claim check) shows the acks.
 */

const emulators = inject('emulators');
const UNREACHABLE = 'http://127.0.0.1:9'; // discard port: nothing listens, every call fails fast
const settings: IngestSettings = { site: 'hostile', retentionDays: 15, maxInlinePayloadBytes: MAX_INLINE_PAYLOAD_BYTES };

/** The real S3 adapter on a real SDK client, counting the commands it sends. */
function countingPayloadStore(endpoint: string, bucket: string) {
  const client = new S3Client({ ...localClientConfig(endpoint), forcePathStyle: true, maxAttempts: 1 });
  const commands: string[] = [];
  client.middlewareStack.add(
    (next, context) => (args) => {
      commands.push(String(context.commandName));
      return next(args);
    },
    { step: 'initialize', name: 'countCommands' },
  );
  return { client, commands, payloads: new S3PayloadStore(client, bucket) };
}

const cda = (megabytes: number) => Buffer.alloc(megabytes * 1024 * 1024 * 0.75, 'CDA-PDF').toString('base64');

describe('contention: many deliveries of one large message at once', () => {
  const bucket = `hostile-contention-${randomUUID().slice(0, 8)}`;
  const s3 = localS3(emulators.sqs);

  beforeAll(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });

  afterAll(() => s3.destroy());

  it('uploads the payload once for 50 concurrent deliveries, and answers every loser as a duplicate', async () => {
    const { client, commands, payloads } = countingPayloadStore(emulators.sqs, bucket);
    // 1 MB, not the finding's 3 MB: the number of uploads does not depend on the size, the test's CPU does.
    const parsed = parseMessage('CDAStatus', freshMessage('CDAStatus', { CDA: cda(1) }));
    if (!parsed.ok) throw new Error('example rejected');
    const store = new InMemoryStore();
    const queue = new InMemoryQueue();
    const ports = { store, queue, payloads, clock: { now: () => new Date() } };
    try {
      const outcomes = await Promise.all(Array.from({ length: 50 }, () => ingest(parsed.message, ports, settings)));

      expect(commands.filter((name) => name === 'PutObjectCommand')).toHaveLength(1);
      expect(commands.filter((name) => name === 'DeleteObjectCommand')).toHaveLength(0);
      expect(outcomes.filter((o) => o.kind === 'accepted')).toHaveLength(1);
      expect(outcomes.filter((o) => o.kind === 'duplicate')).toHaveLength(49);
      expect(queue.delivered).toHaveLength(1);
      const objects = await listKeys(s3, bucket, 'hostile/CDAStatus/');
      expect(objects.filter((key) => key.includes(parsed.message.messageId))).toEqual([
        store.records.get(parsed.message.messageId)?.payloadRef?.key,
      ]);
    } finally {
      client.destroy();
    }
  });

  it('fails every delivery waiting on a failed upload, and uploads afresh for the next one', async () => {
    const { client, commands, payloads } = countingPayloadStore(UNREACHABLE, bucket);
    try {
      const waiting = await Promise.allSettled(Array.from({ length: 5 }, () => payloads.put('k/one.json', '{}', 'h')));
      expect(waiting.every((r) => r.status === 'rejected' && r.reason instanceof PayloadStoreUnavailableError)).toBe(true);
      expect(commands).toEqual(['PutObjectCommand']);

      await expect(payloads.put('k/one.json', '{}', 'h')).rejects.toBeInstanceOf(PayloadStoreUnavailableError);
      expect(commands).toEqual(['PutObjectCommand', 'PutObjectCommand']);
    } finally {
      client.destroy();
    }
  });
});
