import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../lambdas/config';
import { ConfigError } from '../../contract/errors';
import { DEFAULT_RETENTION_DAYS } from '../../contract/names';

const env = {
  SITE_ID: 'mo-123',
  TABLE_NAME: 'n3-callback-mo-123-messages',
  QUEUE_URL: 'https://sqs.eu-central-1.amazonaws.com/123456789012/n3-callback-mo-123.fifo',
  BUCKET_NAME: 'n3-callback-mo-123-payloads',
};

describe('config', () => {
  it('reads the environment with defaults', () => {
    expect(loadConfig(env)).toEqual({
      ...env,
      RETENTION_DAYS: DEFAULT_RETENTION_DAYS,
      MAX_BODY_BYTES: 4 * 1024 * 1024,
      MAX_INLINE_PAYLOAD_BYTES: 4 * 1024,
      S3_FORCE_PATH_STYLE: false,
      SDK_DEADLINES: 'aws',
      LPU_ALLOWLIST: new Set(),
      RECONCILE_GRACE_SECONDS: 60,
      RECONCILE_BATCH: 100,
    });
  });

  it('fails naming each bad variable', () => {
    const attempt = () => loadConfig({ ...env, SITE_ID: 'mo 123', QUEUE_URL: undefined, RETENTION_DAYS: 'forever' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/SITE_ID.*QUEUE_URL.*RETENTION_DAYS/);
  });

  it('reads the Lpu allowlist as a set of lower-case ids', () => {
    expect(loadConfig({ ...env, LPU_ALLOWLIST: ' 20DFADD0-c709-43b0-a130-5a16301b0217, ,abc ' }).LPU_ALLOWLIST).toEqual(
      new Set(['20dfadd0-c709-43b0-a130-5a16301b0217', 'abc']),
    );
  });

  it('refuses an inline payload limit that would not fit an SQS message', () => {
    expect(() => loadConfig({ ...env, MAX_INLINE_PAYLOAD_BYTES: String(300 * 1024) })).toThrow('MAX_INLINE_PAYLOAD_BYTES');
  });
});
