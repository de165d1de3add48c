import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { BUCKET_PREFIXES } from '../../contract/names';

/*
 * The audit trail of operators' actions on a site (cli/audit.ts records them), kept in the site's own bucket under
 * audit/, one object per step of an action (started, then finished, failed or interrupted), never overwritten:
 * a step written is not lost if the process dies after it. Why the bucket and not the message table: the
 * operator who reads rejected requests already has the bucket (the MIS consumer's policy reaches only the payload
 * prefix, so it cannot read who did what); an object per step costs one PUT; keys sort by time within a day,
 * so a window is listed by day prefixes as rejected/ is; and nothing the functions read (the table's stream,
 * its indexes) ever meets an audit item. No lifecycle rule covers audit/: it outlives the data's retention.
 */

export const AUDIT_PREFIX = BUCKET_PREFIXES.audit;

export type AuditPhase = 'started' | 'finished' | 'failed' | 'interrupted';

/** Who ran it: the caller's identity as STS tells it (GetCallerIdentity), or `local` against npm start. */
export interface AuditIdentity {
  readonly arn: string;
  readonly account: string;
  readonly userId?: string;
  /** The operating-system user of the machine it ran on: a hint beside the ARN (a shared role says little). */
  readonly osUser?: string;
  /** Why STS could not tell (then `arn` and `account` are `unknown`). */
  readonly unresolved?: string;
}

/** One step of one action. Selection and counts name ids, flags and numbers only: never a payload. */
export interface AuditRecord {
  /** The action's id: its started record and its end share it. */
  readonly id: string;
  readonly phase: AuditPhase;
  /** When this step was written, ISO with milliseconds. */
  readonly at: string;
  readonly startedAt: string;
  readonly site: string;
  readonly who: AuditIdentity;
  readonly command: string;
  readonly selection: Readonly<Record<string, unknown>>;
  readonly dryRun: boolean;
  /** At the end: what it did, counted. */
  readonly counts?: Readonly<Record<string, number>>;
  /** failed: the error, one line. */
  readonly error?: string;
}

/** Where audit records are kept: the bucket here, memory in unit tests. */
export interface AuditStore {
  put(record: AuditRecord): Promise<void>;
  /** Records written from `since` up to `until`, oldest first. */
  list(since: Date, until: Date): Promise<AuditRecord[]>;
}

/** `audit/<yyyy>/<mm>/<dd>/<hhmmss.mmm>Z-<phase>-<id>.json`: `aws s3 ls` shows when and what step at a glance. */
export function auditKey(record: Pick<AuditRecord, 'at' | 'phase' | 'id'>): string {
  const day = record.at.slice(0, 10).replaceAll('-', '/');
  const time = record.at.slice(11, 23).replaceAll(':', '');
  return `${AUDIT_PREFIX}${day}/${time}Z-${record.phase}-${record.id.replace(/[^\w-]/g, '_')}.json`;
}

const AUDIT_KEY = /^audit\/(\d{4})\/(\d{2})\/(\d{2})\/(\d{2})(\d{2})(\d{2})\.(\d{3})Z-[a-z]+-[\w-]+\.json$/;

/** The ISO time a key names, or undefined for anything else under the prefix. */
export function auditKeyTime(key: string): string | undefined {
  const m = AUDIT_KEY.exec(key);
  return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${m[7]}Z` : undefined;
}

/** How many records are read at once when listing. */
const READ_CONCURRENCY = 8;

export class S3AuditStore implements AuditStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async put(record: AuditRecord): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: auditKey(record),
        Body: JSON.stringify(record, null, 2),
        ContentType: 'application/json; charset=utf-8',
        // Never replaced: a second write of the same key (the same millisecond, step and id) is refused.
        IfNoneMatch: '*',
      }),
    );
  }

  async list(since: Date, until: Date): Promise<AuditRecord[]> {
    const keys: string[] = [];
    const from = since.toISOString();
    const to = until.toISOString();
    for (let day = new Date(from.slice(0, 10)); day <= until; day = new Date(day.getTime() + 86_400_000)) {
      const prefix = `${AUDIT_PREFIX}${day.toISOString().slice(0, 10).replaceAll('-', '/')}/`;
      let token: string | undefined;
      do {
        const page = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }));
        for (const { Key } of page.Contents ?? []) {
          const at = Key ? auditKeyTime(Key) : undefined;
          if (Key && at && at >= from && at <= to) keys.push(Key);
        }
        token = page.NextContinuationToken;
      } while (token);
    }
    const records: AuditRecord[] = [];
    for (let i = 0; i < keys.length; i += READ_CONCURRENCY) {
      records.push(...(await Promise.all(keys.slice(i, i + READ_CONCURRENCY).map((key) => this.read(key)))));
    }
    return records.sort((a, b) => a.at.localeCompare(b.at));
  }

  private async read(key: string): Promise<AuditRecord> {
    const object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    return JSON.parse(await object.Body!.transformToString('utf-8')) as AuditRecord;
  }
}
