import { randomUUID } from 'node:crypto';
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { PayloadStoreUnavailableError } from '../../contract/errors';
import { BUCKET_PREFIXES } from '../../contract/names';
import type { PayloadRef, PayloadStore, RejectedStore, RejectedRequest } from '../ingest/ports';

/*
 * The site's bucket holds two things: payloads too large to keep inline (claim check), and
 * every rejected request under `rejected/`. Encryption at rest is the bucket's default
 * (set by the stack), so no object can be written unencrypted whatever a caller forgets.
 */

export class S3PayloadStore implements PayloadStore {
  constructor(
    private readonly client: S3Client,
    readonly bucket: string,
  ) {}

  /** Uploads under way in this process, by key. */
  private readonly uploading = new Map<string, Promise<PayloadRef>>();

  /**
   * Concurrent puts of one key share one upload: the key names the content (MessageId and hash), so a
   * second upload would only write the same bytes again. Where one process serves many requests (npm
   * start, the tests), 50 deliveries of one 3 MB message each uploading it held the event loop long enough
   * (copy, signing hash, checksum) for the SDK's connect timers to fire first: losers of the race got 503.
   * A failed upload fails all who waited on it; the next put tries afresh.
   */
  put(key: string, body: string, sha256: string): Promise<PayloadRef> {
    const pending = this.uploading.get(key);
    if (pending) return pending;
    const upload = this.upload(key, body, sha256).finally(() => this.uploading.delete(key));
    this.uploading.set(key, upload);
    return upload;
  }

  private async upload(key: string, body: string, sha256: string): Promise<PayloadRef> {
    const bytes = Buffer.from(body, 'utf8');
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: bytes,
          ContentType: 'application/json; charset=utf-8',
          Metadata: { sha256 },
        }),
      );
    } catch (error) {
      throw new PayloadStoreUnavailableError('payload put failed', { cause: error });
    }
    return { bucket: this.bucket, key, size: bytes.length, sha256 };
  }

  async discard(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch {
      // An orphan costs storage until the lifecycle rule expires it; it is never pointed at.
    }
  }
}

export const REJECTED_PREFIX = BUCKET_PREFIXES.rejected;

export class S3RejectedStore implements RejectedStore {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  async keep(request: RejectedRequest): Promise<string> {
    const key = rejectedKey(request);
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: JSON.stringify(request, null, 2),
        ContentType: 'application/json; charset=utf-8',
      }),
    );
    return key;
  }
}

/**
 * `rejected/<yyyy>/<mm>/<dd>/<hhmmss>Z-<http status>-<code>-<type>-<request id>.json`:
 * `aws s3 ls s3://<bucket>/rejected/<yyyy>/<mm>/<dd>/` shows when, why and what at a glance.
 */
export function rejectedKey(request: RejectedRequest): string {
  const iso = request.receivedAt;
  const day = iso.slice(0, 10).replaceAll('-', '/');
  const time = iso.slice(11, 19).replaceAll(':', '');
  // No dash in the type, so that the key parses back unambiguously (the request id has dashes).
  const type = (request.messageType || 'unknown').replace(/\W/g, '_').slice(0, 40);
  // The gateway's request id is unique; without one (a direct invoke) a random id keeps keys apart.
  const id = (request.requestId || randomUUID()).replace(/[^\w-]/g, '_').slice(0, 64);
  return `${REJECTED_PREFIX}${day}/${time}Z-${request.httpStatus}-${request.code}-${type}-${id}.json`;
}

/** What a rejected request's key says (see `rejectedKey`), without opening the object. */
export interface RejectedKeyFacts {
  readonly key: string;
  /** ISO time, to the second. */
  readonly time: string;
  readonly status: string;
  readonly code: string;
  readonly type: string;
  readonly requestId: string;
}

const REJECTED_KEY = /^rejected\/(\d{4})\/(\d{2})\/(\d{2})\/(\d{2})(\d{2})(\d{2})Z-(\d{3})-([a-z_]+)-(\w+)-([\w-]+)\.json$/;

/** The inverse of `rejectedKey`; undefined for anything else under the prefix. */
export function parseRejectedKey(key: string): RejectedKeyFacts | undefined {
  const m = REJECTED_KEY.exec(key);
  if (!m) return undefined;
  return { key, time: `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`, status: m[7]!, code: m[8]!, type: m[9]!, requestId: m[10]! };
}
