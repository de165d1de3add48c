import { describe, expect, it } from 'vitest';
import {
  type DoctorPorts,
  doctorCommand,
  functionArn,
  mapBounded,
  parseDoctorArgs,
  runDoctor,
  SWEEP_LOGICAL_ID,
  type Subscription,
  TICK_LOGICAL_ID,
} from '../../fleet/doctor';
import { FLEET_STACK_NAME, TICK_TOPIC_NAME } from '../../contract/names';

/*
 * The doctor's decisions over in-memory fakes of its own ports (the SNS side is tested on the wire against
 * fauxqs, and the CloudFormation side against the templates, in test/infra/fleet-doctor.test.ts): what it says
 * and does for a Sweep that does not run, a write it is refused, a read that fails, and its exit codes.
 */

const TOPIC = `arn:aws:sns:eu-central-1:111122223333:${TICK_TOPIC_NAME}`;
const stackId = (stack: string) => `arn:aws:cloudformation:eu-central-1:111122223333:stack/${stack}/0c0ffee0`;
const fnName = (site: string) => `N3Callback-${site}-FunctionsSweep-ABC123`;
const fnArn = (site: string) => `arn:aws:lambda:eu-central-1:111122223333:function:${fnName(site)}`;

interface Fleet {
  sites: string[];
  subscribed: string[];
  ran?: Record<string, number>;
  failDescribe?: string;
  failSubscribe?: boolean;
  failInvocations?: boolean;
  extraSubscriptions?: Subscription[];
}

function fakes(fleet: Fleet) {
  const subscriptions: Subscription[] = [
    ...fleet.subscribed.map((site, i) => ({ subscriptionArn: `${TOPIC}:sub-${i}`, protocol: 'lambda', endpoint: fnArn(site) })),
    ...(fleet.extraSubscriptions ?? []),
  ];
  const asked: string[][] = [];
  const ports: DoctorPorts = {
    stacks: {
      async describe(stack, logicalId) {
        if (stack === FLEET_STACK_NAME && logicalId === TICK_LOGICAL_ID) {
          return { stackId: stackId(stack), type: 'AWS::SNS::Topic', physicalId: TOPIC };
        }
        const site = fleet.sites.find((s) => `N3Callback-${s}` === stack);
        if (site === undefined || logicalId !== SWEEP_LOGICAL_ID) return null;
        if (site === fleet.failDescribe) throw Object.assign(new Error('Rate exceeded\nsecond line'), { name: 'Throttling' });
        return { stackId: stackId(stack), type: 'AWS::Lambda::Function', physicalId: fnName(site) };
      },
    },
    topic: {
      exists: async (arn) => arn === TOPIC,
      subscriptions: async () => [...subscriptions],
      async subscribeLambda(_topic, endpoint) {
        if (fleet.failSubscribe)
          throw Object.assign(new Error('User is not authorized to perform: SNS:Subscribe'), { name: 'AuthorizationError' });
        const subscription = { subscriptionArn: `${TOPIC}:new-${subscriptions.length}`, protocol: 'lambda', endpoint };
        subscriptions.push(subscription);
        return subscription.subscriptionArn;
      },
    },
    invocations: {
      async count(names, minutes) {
        expect(minutes).toBe(15);
        asked.push([...names]);
        if (fleet.failInvocations)
          throw Object.assign(new Error('not authorized to perform: cloudwatch:GetMetricData'), { name: 'AccessDenied' });
        return new Map(Object.entries(fleet.ran ?? {}).map(([site, n]) => [fnName(site), n]));
      },
    },
  };
  return { ports, subscriptions, asked };
}

describe('fleet doctor: what it decides', () => {
  it('calls a subscribed Sweep that has not run for 15 minutes not running, says what to check, and cannot repair it', async () => {
    const { ports } = fakes({ sites: ['a', 'b'], subscribed: ['a', 'b'], ran: { a: 14 } });
    const report = await runDoctor(ports, { siteIds: ['a', 'b'], repair: true });
    expect(report.sites.map((s) => [s.siteId, s.state, s.invocations])).toEqual([
      ['a', 'healthy', 14],
      ['b', 'not-running', 0],
    ]);
    expect(report.sites[1]!.message).toMatch(
      /^b: subscribed, but its Sweep has not run for 15 minutes: nothing the doctor can change; check/,
    );
    expect(report.unhealthy).toBe(true);
  });

  it('does not ask whether a Sweep it has just subscribed ran (it cannot have yet)', async () => {
    const { ports, asked } = fakes({ sites: ['a', 'b'], subscribed: ['a'], ran: { a: 15 } });
    const report = await runDoctor(ports, { siteIds: ['a', 'b'], repair: true });
    expect(asked).toEqual([[fnName('a')]]);
    expect(report.sites.map((s) => s.state)).toEqual(['healthy', 'resubscribed']);
    expect(report.unhealthy).toBe(false);
  });

  it('keeps a site it was refused the subscription for as not subscribed, with the permission to give', async () => {
    const { ports } = fakes({ sites: ['a'], subscribed: [], failSubscribe: true });
    const report = await runDoctor(ports, { siteIds: ['a'], repair: true });
    expect(report.sites[0]).toMatchObject({ state: 'unsubscribed', sweepArn: fnArn('a') });
    expect(report.sites[0]!.message).toBe(
      `a: its Sweep is not subscribed to the tick, and subscribing failed (AuthorizationError: User is not authorized to perform: SNS:Subscribe): give the doctor sns:Subscribe on ${TICK_TOPIC_NAME} and run it again`,
    );
    expect(report.unhealthy).toBe(true);
  });

  it('reports a stack it could not read as unknown, in one line, and still checks and repairs the others', async () => {
    const { ports, subscriptions } = fakes({ sites: ['a', 'b', 'c'], subscribed: [], failDescribe: 'b', ran: {} });
    const report = await runDoctor(ports, { siteIds: ['a', 'b', 'c'], repair: true });
    expect(report.sites.map((s) => s.state)).toEqual(['resubscribed', 'error', 'resubscribed']);
    expect(report.sites[1]!.message).toBe('b: reading N3Callback-b failed (Throttling: Rate exceeded): run the doctor again');
    expect(subscriptions.map((s) => s.endpoint)).toEqual([fnArn('a'), fnArn('c')]);
  });

  it('says so when it cannot read invocations, and how to run without them', async () => {
    const { ports } = fakes({ sites: ['a'], subscribed: ['a'], failInvocations: true });
    const report = await runDoctor(ports, { siteIds: ['a'], repair: false });
    expect(report.sites[0]!.state).toBe('error');
    expect(report.sites[0]!.message).toMatch(/cloudwatch:GetMetricData, or run it with --no-invocations$/);
  });

  it('lists a tick subscription of no configured Sweep as a stray when the whole fleet is checked, and leaves it', async () => {
    const stray = { subscriptionArn: `${TOPIC}:old`, protocol: 'lambda', endpoint: fnArn('retired') };
    const { ports, subscriptions } = fakes({ sites: ['a'], subscribed: ['a'], ran: { a: 15 }, extraSubscriptions: [stray] });
    expect((await runDoctor(ports, { siteIds: ['a'], repair: true, wholeFleet: true })).strays).toEqual([stray]);
    expect((await runDoctor(ports, { siteIds: ['a'], repair: true, wholeFleet: false })).strays).toEqual([]);
    expect(subscriptions).toContainEqual(stray);
  });

  it('builds the Sweep ARN from the stack ARN, whatever the partition', () => {
    expect(functionArn('arn:aws-cn:cloudformation:cn-north-1:123456789012:stack/N3Callback-a/x', 'fn')).toBe(
      'arn:aws-cn:lambda:cn-north-1:123456789012:function:fn',
    );
  });

  it('reads CloudFormation at most --parallel stacks at once, and every one', async () => {
    let inFlight = 0;
    let most = 0;
    const items = Array.from({ length: 40 }, (_, i) => i);
    const done: number[] = [];
    const results = await mapBounded(
      items,
      4,
      async (i) => {
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setImmediate(resolve));
        inFlight--;
        return i * 2;
      },
      (n) => done.push(n),
    );
    expect(most).toBe(4);
    expect(results).toEqual(items.map((i) => i * 2));
    expect(done.at(-1)).toBe(40);
  });
});

describe('fleet doctor: the command', () => {
  const run = async (argv: string[], fleet: Fleet, ports?: () => Promise<DoctorPorts>) => {
    const out: string[] = [];
    const err: string[] = [];
    const progress: string[] = [];
    const code = await doctorCommand(argv, () => fleet.sites, ports ?? (async () => fakes(fleet).ports), {
      out: (t) => out.push(t),
      err: (t) => err.push(t),
      progress: (t) => progress.push(t),
    });
    return { code, out, err, progress };
  };

  it('exits 0 when all is healthy, 1 when something is left unhealthy, 2 when it could not check', async () => {
    expect((await run([], { sites: ['a'], subscribed: ['a'], ran: { a: 15 } })).code).toBe(0);
    expect((await run([], { sites: ['a'], subscribed: [], ran: {} })).code).toBe(1);
    expect((await run(['--repair'], { sites: ['a'], subscribed: [], ran: {} })).code).toBe(0);
    const broken = await run([], { sites: ['a'], subscribed: [] }, async () => {
      throw new Error(
        '@aws-sdk/client-cloudformation is not installed: add it (npm install --save-dev @aws-sdk/client-cloudformation) to run the doctor',
      );
    });
    expect(broken.code).toBe(2);
    expect(broken.err).toEqual([
      'fleet doctor: @aws-sdk/client-cloudformation is not installed: add it (npm install --save-dev @aws-sdk/client-cloudformation) to run the doctor',
    ]);
  });

  it('keeps stdout to the report, and progress apart from it', async () => {
    const r = await run(['--json'], { sites: ['a', 'b'], subscribed: ['a'], ran: { a: 15 } });
    expect(r.out).toHaveLength(1);
    expect(JSON.parse(r.out[0]!)).toMatchObject({ unhealthy: true, summary: { healthy: 1, unsubscribed: 1 } });
    expect(r.progress).toEqual(['\rfleet doctor: 1/2 sites read', '\rfleet doctor: 2/2 sites read', '\n']);
    expect(r.err).toEqual([]);
  });

  it('checks only the sites named by --site, and refuses a site that is not configured', async () => {
    const one = await run(['--site', 'b', '--json'], { sites: ['a', 'b'], subscribed: [], ran: {} });
    expect((JSON.parse(one.out[0]!) as { sites: Array<{ siteId: string }> }).sites.map((s) => s.siteId)).toEqual(['b']);
    const unknown = await run(['--site', 'z'], { sites: ['a', 'b'], subscribed: [] });
    expect(unknown.code).toBe(2);
    expect(unknown.err).toEqual(['fleet doctor: --site z: no such site; configured: a, b']);
  });

  it('refuses an unknown option and a parallelism out of bounds, in one line each', () => {
    expect(() => parseDoctorArgs(['--dry-run'])).toThrow(/^unknown option "--dry-run"; usage: npm run fleet -- doctor/);
    expect(() => parseDoctorArgs(['--parallel', '0'])).toThrow('--parallel needs a whole number from 1 to 64, e.g. --parallel 8');
    expect(parseDoctorArgs(['--repair', '--no-invocations'])).toMatchObject({ repair: true, invocations: false, json: false });
  });
});
