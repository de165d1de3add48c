import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECRET_PLACEHOLDER, SITE_OUTPUTS, stackName } from '../../contract/names';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { deployedSiteEnv, type FakeCloudFormation, fakeCloudFormation, outputsOf } from '../support/fake-cloudformation';

/*
 * `--site <id>`: the CLI finds a deployed site's queue, table, bucket and APIs from its stack's outputs. Here
 * `npm start` poses as the deployed site: a fake of the CloudFormation API (at the wire, the real SDK client
 * talks to it) answers with outputs naming npm start's resources, and the SDK's own AWS_ENDPOINT_URL_<SERVICE>
 * variables send the CLI's clients to the emulators, exactly as an operator's would go to AWS. N3_CALLBACK_BASE
 * is empty, so nothing is found through npm start's /_local/info: only the outputs can have told it.
 */

const exec = promisify(execFile);

describe('n3-callback --site <id>: a deployed site by its stack outputs', () => {
  let stack: LocalStack;
  let cloudFormation: FakeCloudFormation;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    stack = await startLocalStack({ port: 0, siteId: 'cli-site', reconcileEverySeconds: 0 });
    const { info } = stack;
    const outputs = outputsOf(info);
    cloudFormation = await fakeCloudFormation({
      [stackName('mo-7')]: { outputs },
      // A site whose URL carries a secret segment: the output names it only by placeholder.
      [stackName('mo-8')]: { outputs: { ...outputs, [SITE_OUTPUTS.callbackBaseUrl]: `${info.baseUrl}${SECRET_PLACEHOLDER}/` } },
    });
    env = deployedSiteEnv(info, cloudFormation.url);
  });
  afterAll(async () => {
    await cloudFormation?.close();
    await stack?.stop();
  });

  const cli = (...args: string[]) => exec(process.execPath, ['cli/n3-callback.mjs', ...args], { env });
  const failing = async (...args: string[]) =>
    (await cli(...args).then(
      () => {
        throw new Error(`n3-callback ${args.join(' ')} succeeded`);
      },
      (e: { code: number; stderr: string }) => e,
    )) as { code: number; stderr: string };

  it('sends to the site URL, then tail and rejected read its table and bucket, found by its stack name', async () => {
    const message = JSON.parse(readFileSync('examples/REMDStatus.json', 'utf8')) as Record<string, unknown>;
    const messageId = randomUUID();
    const file = join(mkdtempSync(join(tmpdir(), 'n3-site-')), 'REMDStatus.json');
    writeFileSync(file, JSON.stringify({ ...message, MessageId: messageId }));

    const sent = await cli('send', 'REMDStatus', file, '--site', 'mo-7');
    expect(sent.stdout).toContain('"Status":"Success"');
    const tailed = await cli('tail', '--once', '--json', '--since', '5m', '--site', 'mo-7');
    expect(tailed.stdout).toContain(messageId);

    const bad = await fetch(new URL('REMDStatus', stack.info.baseUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...message, MessageId: randomUUID(), Status: 'Maybe' }),
    });
    expect(bad.status).toBe(400);
    const rejected = await cli('rejected', '--json', '--since', '5m', '--site', 'mo-7');
    const kept = rejected.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { code: string; type: string });
    expect(kept).toContainEqual(expect.objectContaining({ code: 'invalid_fields', type: 'REMDStatus' }));

    expect(cloudFormation.calls).toContainEqual({ action: 'DescribeStacks', stackName: 'N3Callback-mo-7' });
  });

  it('a flag wins over the output it names', async () => {
    const error = await failing('tail', '--once', '--site', 'mo-7', '--table', 'no-such-table');
    expect(error.code).toBe(2);
    expect(error.stderr.trim().split('\n')).toEqual([expect.stringMatching(/no-such-table|non-existent table|not found/i)]);
  });

  it('says in one line when the stack is not there, naming it and the region', async () => {
    const error = await failing('tail', '--once', '--site', 'mo-404');
    expect(error.code).toBe(2);
    expect(error.stderr.trim().split('\n')).toEqual([
      `n3-callback: no stack N3Callback-mo-404 in ${stack.info.region}: check the site id, AWS_REGION and AWS_PROFILE (npm run cdk -- deploy N3Callback-mo-404 creates it)`,
    ]);
  });

  it('refuses a site id that cannot name a stack, before asking CloudFormation', async () => {
    const before = cloudFormation.calls.length;
    const error = await failing('tail', '--once', '--site', 'MO 7');
    expect(error.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^n3-callback: --site takes a site id/)]);
    expect(cloudFormation.calls).toHaveLength(before);
  });

  it('will not send to a URL that names its secret segment by placeholder, and says to pass --base', async () => {
    const error = await failing('send', 'REMDStatus', 'examples/REMDStatus.json', '--site', 'mo-8');
    expect(error.stderr.trim().split('\n')).toEqual([expect.stringMatching(/secret path segment: pass --base/)]);
  });
});
