import {
  CreateTopicCommand,
  DeleteTopicCommand,
  ListSubscriptionsByTopicCommand,
  ListTopicsCommand,
  SNSClient,
  SubscribeCommand,
} from '@aws-sdk/client-sns';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type DoctorArgs,
  type DoctorPorts,
  doctorCommand,
  SWEEP_LOGICAL_ID,
  type StackResource,
  type StackResources,
  TICK_LOGICAL_ID,
} from '../../fleet/doctor';
import { snsTickTopic } from '../../fleet/doctor-aws';
import { generatedSite } from '../../fleet/count';
import { FLEET_STACK_NAME, TICK_TOPIC_NAME } from '../../contract/names';
import { type FauxqsEmulator, startFauxqs } from '../../local/emulators';
import { localClientConfig, LOCAL_REGION } from '../../local/clients';
import { CDK_JSON, removeSyntheses, synthSites } from './synth';

/*
 * `fleet doctor` against the two things it reads, neither of them AWS:
 *  - SNS on the wire: fauxqs (in this process) holds the tick topic and the sites' subscriptions, made as the
 *    site templates declare them; deleting and recreating the topic drops them, as in AWS;
 *  - CloudFormation: a fake of the doctor's own port, fed from the synthesised templates, so that the Sweep and
 *    tick the doctor looks up by logical id are the ones the templates really have, and a "deployed" site's
 *    subscription is resolved from its template's AWS::SNS::Subscription, not written by the test.
 */

const ACCOUNT = '000000000000';
type Resource = { Type: string; Properties?: Record<string, unknown> };
type Json = { Resources: Record<string, Resource> };

const SITES = [1, 2, 3].map((i) => generatedSite(CDK_JSON.context.sites[0]!, i));
const IDS = SITES.map((s) => String(s.id));
let templates: Map<string, Json>;
let fauxqs: FauxqsEmulator;
let sns: SNSClient;
const topicArn = `arn:aws:sns:${LOCAL_REGION}:${ACCOUNT}:${TICK_TOPIC_NAME}`;

beforeAll(async () => {
  const synthesised = synthSites(SITES);
  templates = new Map(synthesised.stacks.map((stack, i) => [stack.stackName, synthesised.templates[i]!.toJSON() as Json]));
  templates.set(FLEET_STACK_NAME, synthesised.fleet.toJSON() as Json);
  fauxqs = await startFauxqs();
  sns = new SNSClient(localClientConfig(fauxqs.endpoint));
}, 180_000);

afterAll(async () => {
  removeSyntheses();
  sns?.destroy();
  await fauxqs?.stop();
});

/** What CloudFormation names a function it creates: the stack, the logical id, a random suffix. */
const physicalName = (stack: string, logicalId: string) => `${stack}-${logicalId}-Q3ZL0S8T1VXK`.slice(0, 64);

/** A deployed stack's resources as CloudFormation would report them: the template's, with physical ids. */
function physical(stack: string, logicalId: string): { type: string; ref: string; arn: string } | undefined {
  const resource = templates.get(stack)?.Resources[logicalId];
  if (!resource) return undefined;
  if (resource.Type === 'AWS::SNS::Topic') {
    const arn = `arn:aws:sns:${LOCAL_REGION}:${ACCOUNT}:${String(resource.Properties?.TopicName)}`;
    return { type: resource.Type, ref: arn, arn };
  }
  const name = physicalName(stack, logicalId);
  const arn = resource.Type === 'AWS::Lambda::Function' ? `arn:aws:lambda:${LOCAL_REGION}:${ACCOUNT}:function:${name}` : `arn:fake:${name}`;
  return { type: resource.Type, ref: name, arn };
}

/** Resolves the intrinsics the templates use in the values read here (pseudo parameters, Ref, GetAtt …Arn, Join). */
function resolve(stack: string, value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as { Ref?: string; 'Fn::GetAtt'?: [string, string]; 'Fn::Join'?: [string, unknown[]] };
  const pseudo: Record<string, string> = { 'AWS::Partition': 'aws', 'AWS::Region': LOCAL_REGION, 'AWS::AccountId': ACCOUNT };
  if (v.Ref !== undefined) return pseudo[v.Ref] ?? physical(stack, v.Ref)!.ref;
  if (v['Fn::GetAtt']?.[1] === 'Arn') return physical(stack, v['Fn::GetAtt'][0])!.arn;
  if (v['Fn::Join']) return v['Fn::Join'][1].map((part) => resolve(stack, part)).join(v['Fn::Join'][0]);
  throw new Error(`unresolved in ${stack}: ${JSON.stringify(value)}`);
}

/** The doctor's CloudFormation port, answering from the templates of the stacks given as deployed. */
function templateStacks(deployed: readonly string[]): StackResources & { calls: number } {
  const fake = {
    calls: 0,
    async describe(stack: string, logicalId: string): Promise<StackResource | null> {
      fake.calls++;
      if (!deployed.includes(stack)) return null;
      const found = physical(stack, logicalId);
      if (!found) return null;
      return {
        stackId: `arn:aws:cloudformation:${LOCAL_REGION}:${ACCOUNT}:stack/${stack}/4f1c2b8e`,
        type: found.type,
        physicalId: found.ref,
      };
    },
  };
  return fake;
}

const stackOf = (siteId: string) => `N3Callback-${siteId}`;
const everything = [FLEET_STACK_NAME, ...IDS.map(stackOf)];

/** The tick subscriptions of a site's template (exactly one expected), resolved as CloudFormation would create it. */
function declaredSubscription(siteId: string) {
  const stack = stackOf(siteId);
  const subscriptions = Object.values(templates.get(stack)!.Resources).filter(
    (r) => r.Type === 'AWS::SNS::Subscription' && r.Properties?.Protocol === 'lambda',
  );
  expect(subscriptions).toHaveLength(1);
  const p = subscriptions[0]!.Properties!;
  return { TopicArn: resolve(stack, p.TopicArn), Protocol: String(p.Protocol), Endpoint: resolve(stack, p.Endpoint), properties: p };
}

/** A site deploying (or redeploying with a replaced subscription): its template's subscription, made over the wire. */
async function deploySubscription(siteId: string) {
  const { properties: _, ...input } = declaredSubscription(siteId);
  await sns.send(new SubscribeCommand(input));
}

const endpoints = async () =>
  ((await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn }))).Subscriptions ?? []).map((s) => s.Endpoint).sort();

async function doctor(argv: string[], ports: Partial<DoctorPorts> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const seen: DoctorArgs[] = [];
  const code = await doctorCommand(
    argv,
    () => IDS,
    async (args) => {
      seen.push(args);
      return { stacks: templateStacks(everything), topic: snsTickTopic(localClientConfig(fauxqs.endpoint)), ...ports };
    },
    { out: (t) => out.push(t), err: (t) => err.push(t) },
  );
  return { code, out: out.join('\n'), err: err.join('\n'), args: seen[0] };
}

beforeEach(async () => {
  // The fleet stack deployed: the topic, no subscription yet.
  await sns.send(new DeleteTopicCommand({ TopicArn: topicArn }));
  await sns.send(new CreateTopicCommand({ Name: TICK_TOPIC_NAME }));
});

describe('fleet doctor: the templates it relies on', () => {
  it("looks up each site's Sweep and the fleet's tick by the logical ids the templates give them", () => {
    for (const id of IDS) {
      const sweep = templates.get(stackOf(id))!.Resources[SWEEP_LOGICAL_ID];
      expect(sweep?.Type).toBe('AWS::Lambda::Function');
      expect(sweep?.Properties?.Handler).toMatch(/\.Sweep$/);
    }
    const tick = templates.get(FLEET_STACK_NAME)!.Resources[TICK_LOGICAL_ID];
    expect(tick).toMatchObject({ Type: 'AWS::SNS::Topic', Properties: { TopicName: TICK_TOPIC_NAME } });
  });

  it("subscribes as the site template does: the tick's ARN, protocol lambda, the Sweep's ARN, no attributes", () => {
    for (const id of IDS) {
      const declared = declaredSubscription(id);
      expect(declared.TopicArn).toBe(topicArn);
      expect(declared.Endpoint).toBe(`arn:aws:lambda:${LOCAL_REGION}:${ACCOUNT}:function:${physicalName(stackOf(id), SWEEP_LOGICAL_ID)}`);
      // A filter policy or raw delivery here would make the doctor's plain Subscribe a different subscription.
      expect(Object.keys(declared.properties).sort()).toEqual(['Endpoint', 'Protocol', 'Region', 'TopicArn']);
    }
  });

  it("keeps the Sweep's permission for sns.amazonaws.com through the topic's deletion: it names the tick by its built ARN", () => {
    for (const id of IDS) {
      const stack = stackOf(id);
      const permissions = Object.values(templates.get(stack)!.Resources).filter(
        (r) => r.Type === 'AWS::Lambda::Permission' && r.Properties?.Principal === 'sns.amazonaws.com',
      );
      expect(permissions).toHaveLength(1);
      const p = permissions[0]!.Properties!;
      expect(p.FunctionName).toEqual({ 'Fn::GetAtt': [SWEEP_LOGICAL_ID, 'Arn'] });
      expect(resolve(stack, p.SourceArn)).toBe(topicArn);
      // Only pseudo parameters and the name: no Ref to a topic whose deletion or replacement would change it.
      const refs = JSON.stringify(p.SourceArn).match(/"Ref":"[^"]+"/g) ?? [];
      expect(refs.every((ref) => ref.includes('AWS::'))).toBe(true);
      expect(JSON.stringify(p.SourceArn)).toContain(`:${TICK_TOPIC_NAME}`);
    }
  });

  it("names the doctor, for the site it fires for, in each site's SweepNotRunning alarm", () => {
    for (const id of IDS) {
      const alarms = Object.entries(templates.get(stackOf(id))!.Resources).filter(([logicalId]) =>
        logicalId.startsWith('MonitoringSweepNotRunning'),
      );
      expect(alarms).toHaveLength(1);
      expect(String(alarms[0]![1].Properties?.AlarmDescription)).toContain(`Look: npm run fleet -- doctor --site ${id} `);
    }
  });
});

describe('fleet doctor against the tick topic (fauxqs SNS) and the site templates', () => {
  it('finds every Sweep whose subscription went with a deleted topic, changes nothing without --repair, and exits 1', async () => {
    for (const id of IDS) await deploySubscription(id);
    expect(await endpoints()).toHaveLength(3);
    // The fleet stack replaced: a new topic of the same name, with none of the sites' subscriptions.
    await sns.send(new DeleteTopicCommand({ TopicArn: topicArn }));
    await sns.send(new CreateTopicCommand({ Name: TICK_TOPIC_NAME }));

    const run = await doctor(['--no-invocations']);
    expect(run.code).toBe(1);
    const lines = run.out.split('\n');
    for (const id of IDS) expect(lines.filter((l) => l.startsWith(`${id}: its Sweep is not subscribed`))).toHaveLength(1);
    expect(run.out).toContain('npm run fleet -- doctor --repair');
    expect(lines.at(-1)).toMatch(/3 site\(s\) on n3-callback-fleet-tick: 0 healthy, 3 not subscribed \(check only\)$/);
    expect(await endpoints()).toEqual([]);
    expect(run.err).toBe('');
  });

  it('with --repair subscribes again exactly the Sweeps that are not, as their templates would; the next run finds all healthy', async () => {
    // Two sites redeployed since (their subscriptions replaced); the third was not.
    await deploySubscription(IDS[0]!);
    await deploySubscription(IDS[1]!);

    const repaired = await doctor(['--repair', '--no-invocations']);
    expect(repaired.code).toBe(0);
    const lines = repaired.out.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe(`${IDS[2]}: its Sweep was not subscribed to the tick: subscribed it again; it runs at the next minute`);
    expect(lines[1]).toMatch(/: 2 healthy, 1 subscribed again; nothing left to do$/);
    expect(await endpoints()).toEqual(IDS.map((id) => declaredSubscription(id).Endpoint).sort());

    const again = await doctor([]);
    expect(again.code).toBe(0);
    expect(again.out).toBe('doctor: 3 site(s) on n3-callback-fleet-tick: 3 healthy; nothing left to do (check only)');
  });

  it('says in one line to redeploy the fleet stack first when the topic itself is gone, and subscribes nothing', async () => {
    await sns.send(new DeleteTopicCommand({ TopicArn: topicArn }));
    const run = await doctor(['--repair', '--no-invocations']);
    expect(run.code).toBe(1);
    expect(run.out.split('\n')).toHaveLength(1);
    expect(run.out).toMatch(
      /^doctor: the tick topic n3-callback-fleet-tick does not exist .*: every Sweep is stopped; redeploy N3Callback-fleet first, with --revert-drift .*\(npm run cdk -- deploy N3Callback-fleet --revert-drift;.*, then npm run fleet -- doctor --repair$/,
    );
    // Not made by the doctor: a topic outside the fleet stack would carry none of its policy.
    const topics = await sns.send(new ListTopicsCommand({}));
    expect((topics.Topics ?? []).map((t) => t.TopicArn)).not.toContain(topicArn);
  });

  it('says in one line to deploy the fleet stack first when there is none', async () => {
    const run = await doctor(['--repair'], { stacks: templateStacks(IDS.map(stackOf)) });
    expect(run.code).toBe(1);
    expect(run.out).toBe(
      'doctor: N3Callback-fleet is not deployed (no tick topic in it): every Sweep is stopped; redeploy N3Callback-fleet first (npm run cdk -- deploy N3Callback-fleet), then npm run fleet -- doctor --repair',
    );
    expect(await endpoints()).toEqual([]);
  });

  it('names a configured site whose stack is not deployed, with the command that deploys it, and repairs the others', async () => {
    const missing = stackOf(IDS[1]!);
    const run = await doctor(['--repair', '--no-invocations'], { stacks: templateStacks(everything.filter((s) => s !== missing)) });
    expect(run.code).toBe(1);
    expect(run.out).toContain(
      `${IDS[1]}: ${missing} is not deployed (no Sweep in it): nothing to subscribe; deploy it (npm run cdk -- deploy -c site=${IDS[1]})`,
    );
    expect(await endpoints()).toEqual([IDS[0]!, IDS[2]!].map((id) => declaredSubscription(id).Endpoint).sort());
  });

  it('prints clean JSON on stdout with --json: the topic, every site with its state and Sweep ARN, the exit code unchanged', async () => {
    await deploySubscription(IDS[0]!);
    const run = await doctor(['--json', '--no-invocations']);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.out) as { topicArn: string; sites: Array<{ siteId: string; state: string; sweepArn: string }> };
    expect(report.topicArn).toBe(topicArn);
    expect(report.sites.map((s) => [s.siteId, s.state])).toEqual([
      [IDS[0], 'healthy'],
      [IDS[1], 'unsubscribed'],
      [IDS[2], 'unsubscribed'],
    ]);
    expect(report.sites[1]!.sweepArn).toBe(declaredSubscription(IDS[1]!).Endpoint);
    expect(run.args?.json).toBe(true);
  });
});
