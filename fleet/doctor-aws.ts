import {
  GetTopicAttributesCommand,
  ListSubscriptionsByTopicCommand,
  SNSClient,
  type SNSClientConfig,
  SubscribeCommand,
} from '@aws-sdk/client-sns';
import { CloudFormationClient, DescribeStackResourceCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import type { DoctorPorts, Invocations, StackResource, StackResources, Subscription, TickTopic } from './doctor';

/*
 * The doctor's ports on the AWS SDK: the only file of fleet/ that talks to AWS (biome.json lets it, and no other).
 * Credentials and region come from the environment as for the AWS CLI (AWS_PROFILE, AWS_REGION, …).
 *
 * Every call has a deadline that ends it (an AbortSignal: the HTTP handler's requestTimeout alone only warns), and
 * the SDK's retries on throttling stay inside it.
 *
 */

/** A deadline for one call, retries included: long enough for a throttled CloudFormation's backoff. */
const CALL_DEADLINE_MS = 20_000;
const requestHandler = { connectionTimeout: 3_000, requestTimeout: 10_000 };
const deadline = () => ({ abortSignal: AbortSignal.timeout(CALL_DEADLINE_MS) });

/** Client settings for every client (tests point SNS at an emulator). */
export interface DoctorAwsConfig {
  readonly sns?: SNSClientConfig;
  readonly region?: string;
}

// --- SNS ---------------------------------------------------------------------------------------------------------

export function snsTickTopic(config: SNSClientConfig = {}): TickTopic {
  const sns = new SNSClient({ requestHandler, maxAttempts: 5, ...config });
  return {
    async exists(topicArn) {
      try {
        await sns.send(new GetTopicAttributesCommand({ TopicArn: topicArn }), deadline());
        return true;
      } catch (error) {
        if ((error as Error).name === 'NotFoundException' || (error as Error).name === 'NotFound') return false;
        throw error;
      }
    },
    async subscriptions(topicArn) {
      const all: Subscription[] = [];
      let NextToken: string | undefined;
      // 100 a page: 500 sites are five calls, made once for the whole fleet rather than once a site.
      do {
        const page = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn, NextToken }), deadline());
        for (const s of page.Subscriptions ?? []) {
          all.push({ subscriptionArn: s.SubscriptionArn ?? '', protocol: s.Protocol ?? '', endpoint: s.Endpoint ?? '' });
        }
        NextToken = page.NextToken;
      } while (NextToken);
      return all;
    },
    async subscribeLambda(topicArn, functionArn) {
      // As the site stack's AWS::SNS::Subscription declares it: protocol lambda, the Sweep's ARN, no attributes.
      const out = await sns.send(
        new SubscribeCommand({ TopicArn: topicArn, Protocol: 'lambda', Endpoint: functionArn, ReturnSubscriptionArn: true }),
        deadline(),
      );
      return out.SubscriptionArn ?? '';
    },
  };
}

export function cloudFormationStacks(region?: string): StackResources {
  // Throttling is likely with hundreds of sites: more attempts, all inside each call's deadline.
  const cfn = new CloudFormationClient({ requestHandler, maxAttempts: 8, ...(region ? { region } : {}) });
  return {
    async describe(stack, logicalId): Promise<StackResource | null> {
      try {
        const out = (await cfn.send(new DescribeStackResourceCommand({ StackName: stack, LogicalResourceId: logicalId }), deadline())) as {
          StackResourceDetail?: { StackId?: string; ResourceType?: string; PhysicalResourceId?: string; ResourceStatus?: string };
        };
        const detail = out.StackResourceDetail;
        if (!detail?.StackId || !detail.ResourceType || detail.ResourceStatus === 'DELETE_COMPLETE') return null;
        return { stackId: detail.StackId, type: detail.ResourceType, physicalId: detail.PhysicalResourceId ?? '' };
      } catch (error) {
        // "Stack 'N3Callback-x' does not exist", "Resource FunctionsSweep… does not exist for stack …".
        const e = error as Error;
        if (e.name === 'ValidationError' && /does not exist/.test(e.message)) return null;
        throw error;
      }
    },
  };
}

/** GetMetricData takes 500 queries a call: one call for a fleet of 500 sites. */
const QUERIES_PER_CALL = 500;

export function cloudWatchInvocations(region?: string): Invocations {
  const cloudwatch = new CloudWatchClient({ requestHandler, maxAttempts: 5, ...(region ? { region } : {}) });
  return {
    async count(functionNames, minutes) {
      const counts = new Map<string, number>();
      const end = new Date();
      const start = new Date(end.getTime() - minutes * 60_000);
      for (let from = 0; from < functionNames.length; from += QUERIES_PER_CALL) {
        const batch = functionNames.slice(from, from + QUERIES_PER_CALL);
        let NextToken: string | undefined;
        do {
          const out = (await cloudwatch.send(
            new GetMetricDataCommand({
              StartTime: start,
              EndTime: end,
              NextToken,
              MetricDataQueries: batch.map((name, i) => ({
                Id: `f${i}`,
                // One-minute sums over the window: a 15-minute period would be aligned to the clock, not to now.
                MetricStat: {
                  Metric: { Namespace: 'AWS/Lambda', MetricName: 'Invocations', Dimensions: [{ Name: 'FunctionName', Value: name }] },
                  Period: 60,
                  Stat: 'Sum',
                },
                ReturnData: true,
              })),
            }),
            deadline(),
          )) as { MetricDataResults?: Array<{ Id?: string; Values?: number[] }>; NextToken?: string };
          for (const result of out.MetricDataResults ?? []) {
            const name = batch[Number(result.Id?.slice(1))];
            if (name === undefined) continue;
            counts.set(name, (counts.get(name) ?? 0) + (result.Values ?? []).reduce((sum, v) => sum + v, 0));
          }
          NextToken = out.NextToken;
        } while (NextToken);
      }
      return counts;
    },
  };
}

export async function awsDoctorPorts(options: { invocations: boolean; config?: DoctorAwsConfig }): Promise<DoctorPorts> {
  const region = options.config?.region;
  return {
    stacks: cloudFormationStacks(region),
    topic: snsTickTopic({ ...(region ? { region } : {}), ...options.config?.sns }),
    invocations: options.invocations ? cloudWatchInvocations(region) : undefined,
  };
}
