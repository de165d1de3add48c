import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ACK_TEXT } from '../../contract/ack';
import { drain, getRecord, listKeys } from '../support/aws';
import { freshMessage } from '../../testing/messages';
import { receiveSite, type ReceiveSite } from '../support/receive-site';

/*
 * Issue 17, point 5: a MessageId names one message of one type. The same body under another type's
 * URL is not a re-send of it: it is a conflict (409), kept, and the first message stands.
 */

let site: ReceiveSite;
beforeAll(async () => {
  site = await receiveSite('identity');
});
afterAll(() => site?.close());
beforeEach(async () => {
  await drain(site.sqs, site.resources.queueUrl);
});

const large = () => Buffer.alloc(12 * 1024, 'CDA').toString('base64');

describe('identity includes the type', () => {
  it.each([
    ['inline', {}],
    ['claim check', { CDA: large() }],
  ])(
    'answers 409 to a SEMDStatus body re-posted to /CDAStatus under its MessageId (%s), keeps it, changes nothing',
    async (_name, extra) => {
      const body = freshMessage('SEMDStatus', extra);
      const id = String(body.MessageId);
      expect((await site.post('SEMDStatus', body)).ack.Status).toBe('Success');
      const stored = await getRecord(site.dynamodb, site.resources.tableName, id);
      const before = await listKeys(site.s3, site.resources.bucket, 'rejected/');

      const { status, ack } = await site.post('CDAStatus', body);
      expect({ status, ack }).toEqual({ status: 409, ack: { MessageId: id, Message: ACK_TEXT.conflictType, Status: 'Failed' } });
      const added = (await listKeys(site.s3, site.resources.bucket, 'rejected/')).filter((key) => !before.includes(key));
      expect(added).toEqual([expect.stringMatching(/-409-conflict-CDAStatus-/)]);
      expect(await getRecord(site.dynamodb, site.resources.tableName, id)).toEqual(stored);
      const messages = await drain(site.sqs, site.resources.queueUrl);
      expect(messages.map((m) => m.MessageAttributes?.MessageType?.StringValue)).toEqual(['SEMDStatus']);
      // No upload of the other type is left in the bucket.
      expect((await listKeys(site.s3, site.resources.bucket, 'identity/CDAStatus/')).filter((key) => key.includes(id))).toEqual([]);
    },
  );
});
