import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LocalInfo } from '../../contract/local';
import { SITE_OUTPUTS } from '../../contract/names';

/*
 * A fake of the CloudFormation API at the wire (the query protocol: a form-encoded POST, an XML answer), so the
 * code under test uses the real SDK client, pointed here by AWS_ENDPOINT_URL_CLOUDFORMATION. It knows only
 * DescribeStacks, answering from the stacks given, as CloudFormation would: outputs by key, and a
 * ValidationError "does not exist" for any other name. Every call is recorded, to show what was asked.
 */

export interface FakeStack {
  readonly outputs: Readonly<Record<string, string>>;
}

export interface FakeCloudFormation {
  readonly url: string;
  readonly calls: { action: string; stackName: string | null }[];
  close(): Promise<void>;
}

const xml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const NS = 'http://cloudformation.amazonaws.com/doc/2010-05-15/';

export async function fakeCloudFormation(stacks: Readonly<Record<string, FakeStack>>): Promise<FakeCloudFormation> {
  const calls: FakeCloudFormation['calls'] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      const action = form.get('Action') ?? '';
      const stackName = form.get('StackName');
      calls.push({ action, stackName });
      const stack = stackName ? stacks[stackName] : undefined;
      response.setHeader('content-type', 'text/xml');
      if (action !== 'DescribeStacks' || !stackName || !stack) {
        response.statusCode = 400;
        const message = action === 'DescribeStacks' ? `Stack with id ${stackName ?? ''} does not exist` : `no ${action} in this fake`;
        response.end(
          `<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>ValidationError</Code><Message>${xml(message)}</Message></Error><RequestId>fake</RequestId></ErrorResponse>`,
        );
        return;
      }
      const outputs = Object.entries(stack.outputs)
        .map(([key, value]) => `<member><OutputKey>${xml(key)}</OutputKey><OutputValue>${xml(value)}</OutputValue></member>`)
        .join('');
      response.end(
        `<DescribeStacksResponse xmlns="${NS}"><DescribeStacksResult><Stacks><member><StackName>${xml(stackName)}</StackName>` +
          `<StackId>arn:aws:cloudformation:eu-central-1:123456789012:stack/${xml(stackName)}/fake</StackId>` +
          `<StackStatus>CREATE_COMPLETE</StackStatus><CreationTime>2026-01-01T00:00:00Z</CreationTime><Outputs>${outputs}</Outputs>` +
          `</member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata></DescribeStacksResponse>`,
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The outputs a deployed site's stack would give, naming `npm start`'s resources: npm start posing as that site. */
export const outputsOf = (info: LocalInfo): Record<string, string> => ({
  [SITE_OUTPUTS.callbackBaseUrl]: info.baseUrl,
  [SITE_OUTPUTS.queueUrl]: info.queueUrl,
  [SITE_OUTPUTS.dlqUrl]: info.dlqUrl,
  [SITE_OUTPUTS.tableName]: info.tableName,
  [SITE_OUTPUTS.bucketName]: info.bucket,
  [SITE_OUTPUTS.documentsApiUrl]: info.baseUrl,
  [SITE_OUTPUTS.documentsTableName]: info.documentsTableName,
});

/**
 * An operator's environment for a site reached as on AWS (`--site`): CloudFormation is the fake, and the SDK's own
 * AWS_ENDPOINT_URL_<SERVICE> variables send every other client to npm start's emulators. N3_CALLBACK_BASE is empty,
 * so nothing is found through npm start's /_local/info: only the outputs can tell the CLI where the site is.
 */
export const deployedSiteEnv = (info: LocalInfo, cloudFormationUrl: string): NodeJS.ProcessEnv => ({
  ...process.env,
  NO_COLOR: '1',
  N3_CALLBACK_BASE: '',
  AWS_PROFILE: '',
  AWS_REGION: info.region,
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  AWS_ENDPOINT_URL_CLOUDFORMATION: cloudFormationUrl,
  AWS_ENDPOINT_URL_DYNAMODB: info.dynamodbEndpoint,
  AWS_ENDPOINT_URL_SQS: info.sqsEndpoint,
  AWS_ENDPOINT_URL_S3: info.s3Endpoint,
});
