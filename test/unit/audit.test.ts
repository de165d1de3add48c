import { EventEmitter } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { actionsOf, callerIdentity, formatAudit, recordAround, type AuditContext } from '../../cli/audit';
import { UsageError } from '../../cli/errors';
import type { AuditRecord, AuditStore } from '../../lambdas/adapters';
import { auditKey, auditKeyTime } from '../../lambdas/adapters/audit-log';
import { fromItem, toItem } from '../../lambdas/adapters/record-item';
import type { MessageRecord } from '../../lambdas/ingest/ports';

/* The audit record around an action (cli/audit.ts), its listing, its keys, and who STS says the caller is. */

class MemoryAuditStore implements AuditStore {
  readonly records: AuditRecord[] = [];
  failPuts = false;
  async put(record: AuditRecord) {
    if (this.failPuts) throw Object.assign(new Error('Access Denied\nmore'), { name: 'AccessDenied' });
    this.records.push(record);
  }
  async list(since: Date, until: Date) {
    return this.records.filter((r) => r.at >= since.toISOString() && r.at <= until.toISOString());
  }
}

const who = { arn: 'arn:aws:iam::123456789012:user/ops', account: '123456789012' };
const contextWith = (store: AuditStore, extra: Partial<AuditContext> = {}): AuditContext => ({
  store,
  who,
  site: 'mo-1',
  where: 's3://bucket/audit/',
  signals: new EventEmitter() as never,
  ...extra,
});

describe('the audit record around an action', () => {
  it('writes "started" before the action runs and "finished" with its counts after', async () => {
    const store = new MemoryAuditStore();
    const result = await recordAround(contextWith(store), { command: 'redrive', selection: { max: 5 } }, async () => {
      expect(store.records.map((r) => r.phase)).toEqual(['started']);
      return { moved: 3, counts: { moved: 3 } };
    });
    expect(result.moved).toBe(3);
    const [started, finished] = store.records;
    expect(started).toMatchObject({ phase: 'started', who, site: 'mo-1', command: 'redrive', selection: { max: 5 }, dryRun: false });
    expect(finished).toMatchObject({ phase: 'finished', id: started!.id, startedAt: started!.at, counts: { moved: 3 } });
  });

  it('records a failure as one line and still throws it', async () => {
    const store = new MemoryAuditStore();
    const failing = recordAround(contextWith(store), { command: 'reproject', selection: {} }, async () => {
      throw Object.assign(new Error('table gone\nstack…'), { name: 'ResourceNotFoundException' });
    });
    await expect(failing).rejects.toThrow('table gone');
    expect(store.records.map((r) => [r.phase, r.error])).toEqual([
      ['started', undefined],
      ['failed', 'ResourceNotFoundException: table gone'],
    ]);
  });

  it('does not run the action when its start cannot be recorded, and says so in one line', async () => {
    const store = new MemoryAuditStore();
    store.failPuts = true;
    let ran = false;
    const refused = recordAround(contextWith(store), { command: 'rejected readmit', selection: {} }, async () => {
      ran = true;
      return { counts: {} };
    });
    await expect(refused).rejects.toBeInstanceOf(UsageError);
    await expect(refused).rejects.toThrow(
      /^rejected readmit did not run: its audit record could not be written to s3:\/\/bucket\/audit\/ \(AccessDenied: Access Denied\); it needs s3:PutObject there$/,
    );
    expect(ran).toBe(false);
  });

  it('records "interrupted" on Ctrl-C, and ends the process when nothing else handles the signal', async () => {
    const store = new MemoryAuditStore();
    const signals = new EventEmitter();
    const exited: number[] = [];
    let stop!: () => void;
    const running = recordAround(
      contextWith(store, { signals: Object.assign(signals, { exit: (code: number) => exited.push(code) as never }) as never }),
      { command: 'replay', selection: { since: '2026-01-01' } },
      () => new Promise<{ counts: Record<string, number> }>((resolve) => (stop = () => resolve({ counts: { sent: 1 } }))),
    );
    await new Promise((resolve) => setImmediate(resolve));
    signals.emit('SIGINT', 'SIGINT');
    await new Promise((resolve) => setImmediate(resolve));
    expect(exited).toEqual([130]);
    stop();
    await running;
    // The end is the interruption: a later "finished" from the same run is not written as well.
    expect(store.records.map((r) => [r.phase, r.error])).toEqual([
      ['started', undefined],
      ['interrupted', 'stopped by SIGINT'],
    ]);
  });

  it('leaves the end to an action that stops itself on the signal (replay, whose handler cli/main.ts adds first, with once)', async () => {
    // Node removes a once-listener before calling it: counted after the record is written, the replay's own handler
    // was gone, and the process ended mid-replay, before its checkpoint and its "resume" line.
    const store = new MemoryAuditStore();
    const signals = new EventEmitter();
    const exited: number[] = [];
    let stop!: () => void;
    signals.once('SIGINT', () => stop());
    const running = recordAround(
      contextWith(store, { signals: Object.assign(signals, { exit: (code: number) => exited.push(code) as never }) as never }),
      { command: 'replay', selection: { since: '2026-01-01' } },
      () => new Promise<{ counts: Record<string, number> }>((resolve) => (stop = () => resolve({ counts: { sent: 1 } }))),
    );
    await new Promise((resolve) => setImmediate(resolve));
    signals.emit('SIGINT', 'SIGINT');
    await running;
    await new Promise((resolve) => setImmediate(resolve));
    expect(exited).toEqual([]);
    expect(store.records.map((r) => r.phase)).toEqual(['started', 'interrupted']);
  });
});

describe('the audit listing', () => {
  const record = (phase: AuditRecord['phase'], id: string, at: string, extra: Partial<AuditRecord> = {}): AuditRecord => ({
    id,
    phase,
    at,
    startedAt: extra.startedAt ?? at,
    site: 'mo-1',
    who,
    command: 'redrive',
    selection: { max: 2 },
    dryRun: false,
    ...extra,
  });

  it('pairs each start with its end, in order of start; a start alone reads as still running (or killed)', () => {
    const actions = actionsOf([
      record('finished', 'b', '2026-12-01T10:00:05.000Z', { startedAt: '2026-12-01T10:00:01.000Z', counts: { moved: 2 } }),
      record('started', 'a', '2026-12-01T09:00:00.000Z'),
      record('started', 'b', '2026-12-01T10:00:01.000Z'),
    ]);
    expect(actions.map((a) => [a.id, a.outcome, a.endedAt, a.counts])).toEqual([
      ['a', 'running?', undefined, undefined],
      ['b', 'finished', '2026-12-01T10:00:05.000Z', { moved: 2 }],
    ]);
    const printed = formatAudit(actions, false);
    expect(printed).toMatch(/arn:aws:iam::123456789012:user\/ops\s+redrive\s+max=2\s+finished\s+moved=2/);
    expect(
      formatAudit(actions, true)
        .split('\n')
        .map((line) => JSON.parse(line).id),
    ).toEqual(['a', 'b']);
    expect(formatAudit([], false)).toBe('No audited actions in that period.');
  });

  it('prints every field of a stored record terminal-safe: one written by hand into audit/ cannot send escape sequences', () => {
    // Anyone who may write to the bucket can put an object there; the listing reads it as it is.
    const hostile = '\u001b]0;owned\u0007\u001b[2J';
    const actions = actionsOf([
      record('started', 'h', '2026-12-01T09:00:00.000Z', { startedAt: hostile }),
      record(hostile as AuditRecord['phase'], 'h', '2026-12-01T09:00:01.000Z', { startedAt: hostile }),
    ]);
    const printed = formatAudit(actions, false);
    expect(printed).not.toContain('\u001b');
    expect(printed).not.toContain('\u0007');
  });

  it('keys records by day and time, so a window is listed by day prefixes, and reads the time back from the key', () => {
    const key = auditKey({ at: '2026-12-01T09:08:07.123Z', phase: 'finished', id: '20261201-abc' });
    expect(key).toBe('audit/2026/12/01/090807.123Z-finished-20261201-abc.json');
    expect(auditKeyTime(key)).toBe('2026-12-01T09:08:07.123Z');
    expect(auditKeyTime('audit/notes.txt')).toBeUndefined();
  });
});

describe('who ran it', () => {
  it('is `local` against npm start, without asking STS', async () => {
    expect(await callerIdentity({ local: true }, {})).toMatchObject({ arn: 'local', account: 'local' });
  });

  it('is what STS GetCallerIdentity answers to a request signed with the caller’s credentials', async () => {
    const asked: { authorization?: string; body: string }[] = [];
    const sts = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk));
      request.on('end', () => {
        asked.push({ authorization: request.headers.authorization, body });
        response.setHeader('content-type', 'text/xml');
        response.end(
          '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>' +
            '<Arn>arn:aws:sts::123456789012:assumed-role/Ops/anna</Arn><UserId>AROAEXAMPLE:anna</UserId><Account>123456789012</Account>' +
            '</GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetCallerIdentityResponse>',
        );
      });
    });
    await new Promise<void>((resolve) => sts.listen(0, '127.0.0.1', resolve));
    try {
      const env = {
        AWS_ENDPOINT_URL_STS: `http://127.0.0.1:${(sts.address() as AddressInfo).port}/`,
        AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'secret',
      };
      const saved = { ...process.env };
      Object.assign(process.env, env);
      try {
        const identity = await callerIdentity({ local: false, site: { region: 'eu-central-1' } as never }, env);
        expect(identity).toMatchObject({
          arn: 'arn:aws:sts::123456789012:assumed-role/Ops/anna',
          account: '123456789012',
          userId: 'AROAEXAMPLE:anna',
        });
      } finally {
        process.env = saved;
      }
      expect(asked).toHaveLength(1);
      expect(asked[0]!.body).toBe('Action=GetCallerIdentity&Version=2011-06-15');
      expect(asked[0]!.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-central-1\/sts\/aws4_request/);
    } finally {
      await new Promise((resolve) => sts.close(resolve));
    }
  });

  it('is recorded as unknown, with why, when STS cannot answer: the action is not held up', async () => {
    const identity = await callerIdentity({ local: false }, { AWS_ENDPOINT_URL_STS: 'http://127.0.0.1:1/', AWS_REGION: 'eu-central-1' });
    expect(identity).toMatchObject({ arn: 'unknown', account: 'unknown', unresolved: expect.any(String) });
  });
});

describe('a readmitted record', () => {
  it('keeps the kept request it came from and its first arrival through the table item', () => {
    const record: MessageRecord = {
      messageId: 'm-1',
      state: 'FORWARDED',
      messageType: 'REMDStatus',
      site: 'mo-1',
      lpu: 'lpu-1',
      status: 'Success',
      documentKey: 'd-1',
      payloadHash: 'h',
      payload: '{}',
      payloadBytes: 2,
      receivedAt: '2026-12-03T10:00:00.000Z',
      expiresAt: 1,
      readmitted: { from: 'rejected/2026/12/01/100000Z-400-invalid_fields-REMDStatus-r1.json', arrivedAt: '2026-12-01T10:00:00.000Z' },
    };
    expect(fromItem(toItem(record))).toEqual(record);
    const { readmitted: _, ...plain } = record;
    expect(fromItem(toItem(plain))).toEqual(plain);
  });
});
