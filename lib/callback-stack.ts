import { Annotations, CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { ManagedPolicy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { LambdaSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { StringParameter } from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { CallbackApi, SECRET_PLACEHOLDER } from './api';
import { BUCKET_PREFIXES, FLEET_PARAMETERS, keyAlias, FLEET_STACK_NAME, SITE_OUTPUTS, STAGE, TICK_TOPIC_NAME } from '../contract/names';
import { FLEET_DASHBOARD_NAME } from './fleet-stack';
import { Functions } from './functions';
import { acknowledgeNagFindings } from './nag';
import { SiteAlarms } from './site-alarms';
import type { SiteConfig } from './site-config';
import { SiteDashboard } from './site-dashboard';
import { Storage } from './storage';

export interface CallbackStackProps extends StackProps {
  readonly site: SiteConfig;
}

/**
 * Everything one MIS-MO site needs that is its own: URL, functions, tables, queues, bucket, alarms. What
 * every site shares without sharing data — the WAF guard and the one-minute tick — comes from the fleet
 * stack (lib/fleet-stack.ts), read from SSM parameters at deploy time: deploy the fleet stack first.
 */
export class CallbackStack extends Stack {
  readonly storage: Storage;
  readonly functions: Functions;
  readonly callbackApi: CallbackApi;
  readonly alarms: SiteAlarms;
  /** The site's own dashboard, where its config asks for one (`"dashboard": true`). */
  readonly dashboard?: SiteDashboard;
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
      reservedConcurrency: site.reservedConcurrency,
    });
    // The fleet's tick, every minute: no EventBridge rule (300 per bus) and no scheduler role of the site's own.
    // Its ARN is built, not read: only this account's topic of that name may invoke the Sweep.
    const tickArn = Stack.of(this).formatArn({ service: 'sns', resource: TICK_TOPIC_NAME });
    Topic.fromTopicArn(this, 'FleetTick', tickArn).addSubscription(new LambdaSubscription(this.functions.sweep));
    const fleetParameter = (name: string) => StringParameter.valueForStringParameter(this, name);
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
      oversizeGuardArn: site.oversizeGuard ? fleetParameter(FLEET_PARAMETERS.webAclArn) : undefined,
      maxRequestsPerSecond: site.maxRequestsPerSecond,
      documentRequestsPerSecond: site.documentRequestsPerSecond,
    });
    // Alarms and dashboard share one scope, `Monitoring`, so that their resources keep the logical ids they had when
    // one construct made both (MonitoringApi5xx…, MonitoringDashboard…): the alarms are its default child, and an id
    // of `Default` is left out of logical ids.
    const monitoring = new Construct(this, 'Monitoring');
    this.alarms = new SiteAlarms(monitoring, 'Default', {
      siteId: site.id,
      displayName: site.displayName,
      api: this.callbackApi.api,
      refusals: this.callbackApi.refusals,
      sweep: this.functions.sweep,
      storage: this.storage,
      alarmEmails: site.alarmEmails,
      silentAlarmMinutes: site.silentAlarmMinutes,
    });
    if (site.dashboard) {
      this.dashboard = new SiteDashboard(monitoring, 'Dashboard', {
        siteId: site.id,
        displayName: site.displayName,
        api: this.callbackApi.api,
        refusals: this.callbackApi.refusals,
        functions: this.functions.all,
        receivers: [...Object.values(this.functions.receivers), this.functions.fallback],
        projector: this.functions.projector,
        storage: this.storage,
      });
    }

    if (site.encryption === 'kms-retiring') {
      // Said at every synth: the step after this one (dropping the key) is the operator's, after the data is gone.
      Annotations.of(this).addWarningV2(
        'n3-callback:kms-retiring',
        `site ${site.id}: "encryption": "kms-retiring" keeps the key ${keyAlias(site.id)}, decrypt only, for the data it still encrypts; ${retiringDays(site.retentionDays)} days after the deploy that set it, set "aws-managed" and schedule the key's deletion (README, Security)`,
      );
    }

    const decryptKey = this.storage.key ?? this.storage.retiringKey;
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
          resources: [this.storage.bucket.arnForObjects(`${BUCKET_PREFIXES.payloads(site.id)}*`)],
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
        // With the site's own key, in use or retiring: to read what it encrypts (queue messages, payload objects). Decrypt only.
        ...(decryptKey ? [new PolicyStatement({ actions: ['kms:Decrypt'], resources: [decryptKey.keyArn] })] : []),
      ],
    });

    const output = (name: string, value: string, description: string) => new CfnOutput(this, name, { value, description });
    // Outputs are readable by anyone who may describe the stack: the secret segment stays a placeholder here.
    const secretNote = site.secretPathSegment
      ? `, with ${SECRET_PLACEHOLDER} replaced by the site's secretPathSegment (sites/${site.id}.json or cdk.json; never in an output)`
      : '';
    output(
      SITE_OUTPUTS.callbackBaseUrl,
      this.callbackApi.baseUrl,
      `Give this to the MIAC (REMD/MSE callbacks) and put it in Reply-To (CDA/SEMD)${secretNote}`,
    );
    output(SITE_OUTPUTS.queueUrl, this.storage.queue.queueUrl, 'The MIS consumes callbacks here (SQS FIFO)');
    output(SITE_OUTPUTS.dlqUrl, this.storage.deadLetterQueue.queueUrl, 'Messages the consumer failed 5 times');
    output(SITE_OUTPUTS.tableName, this.storage.table.tableName, 'Record of every callback, keyed by MessageId');
    output(SITE_OUTPUTS.bucketName, this.storage.bucket.bucketName, 'Large payloads (<site>/…) and rejected requests (rejected/…)');
    output(
      SITE_OUTPUTS.documentsApiUrl,
      this.callbackApi.documentsUrl,
      'The document API (`/documents`, IAM auth): n3-callback --api, createDocumentsClient',
    );
    output(SITE_OUTPUTS.documentsTableName, this.storage.documents.tableName, "Each document's state, derived from the messages");
    if (this.dashboard) output(SITE_OUTPUTS.dashboardName, this.dashboard.dashboard.dashboardName, 'CloudWatch dashboard of this site');
    else
      output(
        SITE_OUTPUTS.dashboardName,
        FLEET_DASHBOARD_NAME,
        `The fleet's dashboard (${FLEET_STACK_NAME}): pick ${site.id} in its Site selector`,
      );
    output(
      SITE_OUTPUTS.accessLogGroupName,
      this.callbackApi.refusals.accessLogs.logGroupName,
      "The gateway's access log: every request, refusals included",
    );
    output(SITE_OUTPUTS.consumerPolicyArn, this.consumerPolicy.managedPolicyArn, 'Attach to the MIS consumer role');

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

/** Point-in-time recovery keeps 35 days: a restore from before the switch needs the key as long. */
const PITR_DAYS = 35;

/**
 * How long a retiring key still protects data: the payloads' retention (which already outlives a message's 14 days
 * in the queue and 14 in its dead-letter queue, site-config.ts) or the table backups' 35 days, whichever is longer.
 */
export const retiringDays = (retentionDays: number) => Math.max(retentionDays, PITR_DAYS);
