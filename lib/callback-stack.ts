import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction as LambdaTarget } from 'aws-cdk-lib/aws-events-targets';
import { ManagedPolicy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { CallbackApi, STAGE } from './api';
import { Functions } from './functions';
import { Monitoring } from './monitoring';
import { acknowledgeNagFindings } from './nag';
import type { SiteConfig } from './site-config';
import { Storage } from './storage';

export interface CallbackStackProps extends StackProps {
  readonly site: SiteConfig;
}

/** Everything one MIS-MO site needs, and nothing shared with any other site. */
export class CallbackStack extends Stack {
  readonly storage: Storage;
  readonly functions: Functions;
  readonly callbackApi: CallbackApi;
  readonly monitoring: Monitoring;
  readonly consumerPolicy: ManagedPolicy;
  readonly siteId: string;

  constructor(scope: Construct, id: string, props: CallbackStackProps) {
    super(scope, id, { description: `N3.Health callback endpoint for ${props.site.displayName} (${props.site.id})`, ...props });
    const { site } = props;
    this.siteId = site.id;

    this.storage = new Storage(this, 'Storage', {
      siteId: site.id,
      retentionDays: site.retentionDays,
      v1DayIndex: site.v1DayIndex,
      encryption: site.encryption,
    });
    this.functions = new Functions(this, 'Functions', {
      siteId: site.id,
      storage: this.storage,
      retentionDays: site.retentionDays,
      lpuAllowlist: site.lpuAllowlist,
    });
    new Rule(this, 'ReconcileSchedule', {
      description: 'Forwards messages stored while the MIS queue was unavailable',
      schedule: Schedule.rate(Duration.minutes(1)),
      targets: [new LambdaTarget(this.functions.reconciler)],
    });
    new Rule(this, 'SilenceSchedule', {
      description: 'Counts documents whose expected answer is overdue (SilentDocuments)',
      schedule: Schedule.rate(Duration.minutes(5)),
      targets: [new LambdaTarget(this.functions.silence)],
    });
    this.callbackApi = new CallbackApi(this, 'Callback', {
      siteId: site.id,
      displayName: site.displayName,
      receivers: this.functions.receivers,
      fallback: this.functions.fallback,
      documents: this.functions.documentsApi,
      senderCidrs: site.senderCidrs,
      secretPathSegment: site.secretPathSegment,
      retentionDays: site.retentionDays,
      executionLogs: site.executionLogs,
      oversizeGuard: site.oversizeGuard,
      maxRequestsPerSecond: site.maxRequestsPerSecond,
      documentRequestsPerSecond: site.documentRequestsPerSecond,
    });
    this.monitoring = new Monitoring(this, 'Monitoring', {
      siteId: site.id,
      displayName: site.displayName,
      api: this.callbackApi.api,
      functions: this.functions.all,
      storage: this.storage,
      alarmEmails: site.alarmEmails,
      oversizeRefused: this.callbackApi.oversizeRefused,
      silentAlarmMinutes: site.silentAlarmMinutes,
    });

    // For the MIS's consumer role: read and settle messages, fetch large payloads. Nothing more.
    this.consumerPolicy = new ManagedPolicy(this, 'ConsumerPolicy', {
      description: `MIS consumer of the N3 callback queue of ${site.id}`,
      statements: [
        new PolicyStatement({
          actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
          resources: [this.storage.queue.queueArn],
        }),
        new PolicyStatement({
          actions: ['s3:GetObject'],
          resources: [this.storage.bucket.arnForObjects(`${site.id}/*`)],
        }),
        // The document API (SigV4): document states, lists, expectations, silent documents.
        new PolicyStatement({
          actions: ['execute-api:Invoke'],
          resources: [
            this.callbackApi.api.arnForExecuteApi('GET', '/documents', STAGE),
            this.callbackApi.api.arnForExecuteApi('GET', '/documents/*', STAGE),
            this.callbackApi.api.arnForExecuteApi('PUT', '/documents/*', STAGE),
          ],
        }),
        // With the site's own key: to read what it encrypts (queue messages, payload objects). Decrypt only.
        ...(this.storage.key ? [new PolicyStatement({ actions: ['kms:Decrypt'], resources: [this.storage.key.keyArn] })] : []),
      ],
    });

    const output = (name: string, value: string, description: string) => new CfnOutput(this, name, { value, description });
    output('CallbackBaseUrl', this.callbackApi.baseUrl, 'Give this to the MIAC (REMD/MSE callbacks) and put it in Reply-To (CDA/SEMD)');
    output('QueueUrl', this.storage.queue.queueUrl, 'The MIS consumes callbacks here (SQS FIFO)');
    output('DlqUrl', this.storage.deadLetterQueue.queueUrl, 'Messages the consumer failed 5 times');
    output('TableName', this.storage.table.tableName, 'Record of every callback, keyed by MessageId');
    output('BucketName', this.storage.bucket.bucketName, 'Large payloads (<site>/…) and rejected requests (rejected/…)');
    output(
      'DocumentsApiUrl',
      this.callbackApi.documentsUrl,
      'The document API (`/documents`, IAM auth): n3-callback --api, createDocumentsClient',
    );
    output('DocumentsTableName', this.storage.documents.tableName, "Each document's state, derived from the messages");
    output('DashboardName', this.monitoring.dashboard.dashboardName, 'CloudWatch dashboard of this site');
    output('ConsumerPolicyArn', this.consumerPolicy.managedPolicyArn, 'Attach to the MIS consumer role');

    acknowledgeNagFindings({
      siteId: site.id,
      api: this.callbackApi.api,
      bucket: this.storage.bucket,
      bucketWriters: [...Object.values(this.functions.receivers), this.functions.fallback],
      consumerPolicy: this.consumerPolicy,
      executionLogs: site.executionLogs,
      access: {
        senderCidrs: site.senderCidrs,
        allowAnySender: site.allowAnySender,
        secretPathSegment: site.secretPathSegment !== undefined,
        maxRequestsPerSecond: site.maxRequestsPerSecond,
        oversizeGuard: site.oversizeGuard,
      },
      keyWriters: this.functions.keyWriters,
      projector: this.functions.projector,
      projectionFailures: this.storage.projectionFailures,
    });
  }
}
