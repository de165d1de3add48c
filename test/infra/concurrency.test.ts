import { App } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACK_TEXT, fixedAck } from '../../contract/ack';
import { defineApp } from '../../lib/app';
import { RATE_RULE } from '../../lib/oversize-guard';
import { checkSite, parseFleet, RESERVING_FUNCTIONS, SiteConfigError, siteReservation, withFleetDefaults } from '../../lib/site-config';
import { CDK_JSON, removeSyntheses, synthSites } from './synth';

/*
 * A bounded blast radius (issue 24, finding 3): a site's concurrency cap (Lambda reserved concurrency, a setting, never
 * a default), the synthesis that refuses what the account cannot reserve, and the fleet's WAF rate rule per source
 * address and site.
 */

/** The example sites as shipped (cdk.json): the first synthesis of a worker is the slow one. */
let shipped: ReturnType<typeof synthSites>;
beforeAll(() => {
  shipped = synthSites();
}, 120_000);
afterAll(removeSyntheses);

const [FIRST, SECOND] = CDK_JSON.context.sites as [Record<string, unknown>, Record<string, unknown>];

type Functions = Record<string, { Properties: { Handler?: string; ReservedConcurrentExecutions?: number } }>;
const functions = (template: Template) => template.findResources('AWS::Lambda::Function') as Functions;
/** Logical id prefix → reservation, for the site's ten functions (`FunctionsCDAStatus…` → `CDAStatus`). */
const reservations = (template: Template) =>
  Object.fromEntries(
    Object.entries(functions(template)).map(([id, r]) => [
      id.replace(/^Functions/, '').replace(/[0-9A-F]{8}$/, ''),
      r.Properties.ReservedConcurrentExecutions,
    ]),
  );

describe('a site’s concurrency cap', () => {
  it('is absent by default: no function of the example sites reserves concurrency (a new account’s quota of 10 could not take it)', () => {
    for (const template of shipped.templates) {
      for (const [id, r] of Object.entries(functions(template))) expect(r.Properties.ReservedConcurrentExecutions, id).toBeUndefined();
    }
  });

  it('reserves the site’s setting, else the fleet’s default, on each function its API invokes: the receivers, Fallback, Documents', () => {
    const { templates } = synthSites([{ ...FIRST, reservedConcurrency: 5 }, SECOND], { fleet: { reservedConcurrency: 3 } });
    const [own, byDefault] = templates.map(reservations) as [Record<string, number | undefined>, Record<string, number | undefined>];
    const api = ['CDAStatus', 'SEMDStatus', 'REMDStatus', 'MseResult', 'MseResultData', 'VimisResult', 'Fallback', 'Documents'];
    expect(api).toHaveLength(RESERVING_FUNCTIONS);
    for (const name of api) {
      expect(own[name], name).toBe(5);
      expect(byDefault[name], name).toBe(3);
    }
    // The Sweep and the projector are not driven by requests (the tick, the stream's shards): no reservation of the cap.
    for (const name of ['Project']) {
      expect(own[name], name).toBeUndefined();
      expect(byDefault[name], name).toBeUndefined();
    }
  });

  it('reserves in the templates exactly what synthesis checks against the account (siteReservation)', () => {
    const sites = [{ ...FIRST, reservedConcurrency: 4 }, SECOND];
    const { templates } = synthSites(sites, { fleet: { reservedConcurrency: 2 } });
    const fleet = parseFleet({ reservedConcurrency: 2 });
    templates.forEach((template, i) => {
      const inTemplate = Object.values(functions(template)).reduce((sum, r) => sum + (r.Properties.ReservedConcurrentExecutions ?? 0), 0);
      expect(inTemplate).toBe(siteReservation(withFleetDefaults(checkSite(sites[i]).site!, fleet)));
    });
  });

  it('refuses in one line, before any stack is built, reservations that would leave the account under the 100 Lambda keeps unreserved', () => {
    // 2 sites × 8 functions × 10 = 160, over the 100 an account of 200 may reserve; -c site=<id> checks the whole fleet too.
    for (const extra of [{}, { site: FIRST.id }]) {
      const app = new App({
        context: {
          ...CDK_JSON.context,
          ...extra,
          'aws:cdk:bundling-stacks': [],
          fleet: { reservedConcurrency: 10, accountConcurrency: 200 },
        },
      });
      let message = '';
      try {
        defineApp(app);
      } catch (error) {
        expect(error).toBeInstanceOf(SiteConfigError);
        message = (error as Error).message;
      }
      expect(message).toMatch(
        /^reservedConcurrency: 2 sites reserve 160 concurrent executions \(8 functions each\), over the 100 an account of 200/,
      );
      expect(message).toContain('raise the quota (Service Quotas L-B99A9384) and set fleet.accountConcurrency');
      expect(message).not.toContain('\n');
    }
    // The same fleet fits an account whose stated quota leaves room: 160 ≤ 260 − 100.
    expect(() =>
      defineApp(
        new App({
          context: { ...CDK_JSON.context, 'aws:cdk:bundling-stacks': [], fleet: { reservedConcurrency: 10, accountConcurrency: 260 } },
        }),
      ),
    ).not.toThrow();
  });
});

describe('the fleet’s WAF rate rule', () => {
  const rateRule = (fleet: Template) => {
    const [acl] = Object.values(fleet.findResources('AWS::WAFv2::WebACL'));
    return (acl!.Properties.Rules as Array<Record<string, unknown>>).find((rule) => rule.Name === RATE_RULE) as {
      Action: unknown;
      Statement: { RateBasedStatement: { Limit: number } };
    };
  };

  it('counts per source address AND per site host (one sender range serves every site), over a minute, answering 429 with an ack', () => {
    const { fleet, templates } = shipped;
    fleet.hasResourceProperties('AWS::WAFv2::WebACL', {
      Rules: Match.arrayWith([
        Match.objectLike({
          Name: RATE_RULE,
          Action: { Block: { CustomResponse: { ResponseCode: 429, CustomResponseBodyKey: 'rateLimited' } } },
          Statement: {
            RateBasedStatement: {
              AggregateKeyType: 'CUSTOM_KEYS',
              CustomKeys: [{ IP: {} }, { Header: { Name: 'host', TextTransformations: [{ Priority: 0, Type: 'LOWERCASE' }] } }],
              EvaluationWindowSec: 60,
              // The example sites' rate, 100 a second, over 60 s.
              Limit: 6_000,
            },
          },
          VisibilityConfig: Match.objectLike({ SampledRequestsEnabled: false }),
        }),
      ]),
    });
    const [acl] = Object.values(fleet.findResources('AWS::WAFv2::WebACL'));
    const body = JSON.parse(acl!.Properties.CustomResponseBodies.rateLimited.Content);
    expect(body).toEqual(fixedAck(ACK_TEXT.unavailable));
    // The same ack as the gateway's own throttle, so the sender reads one 429 whichever refused it.
    templates[0]!.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'THROTTLED',
      ResponseTemplates: { 'application/json': JSON.stringify(body) },
    });
  });

  it('takes its limit from the fleet’s senderRequestsPerSecond, else the largest site rate', () => {
    expect(rateRule(synthSites([FIRST, { ...SECOND, maxRequestsPerSecond: 300 }]).fleet).Statement.RateBasedStatement.Limit).toBe(18_000);
    expect(rateRule(synthSites(undefined, { fleet: { senderRequestsPerSecond: 40 } }).fleet).Statement.RateBasedStatement.Limit).toBe(
      2_400,
    );
  });

  it('alarms the fleet when it refuses anyone, naming the setting that lets the sender through', () => {
    const { fleet } = shipped;
    const alarms = Object.values(fleet.findResources('AWS::CloudWatch::Alarm')).filter((alarm) =>
      JSON.stringify(alarm.Properties.Metrics ?? alarm.Properties.Dimensions).includes(RATE_RULE),
    );
    expect(alarms).toHaveLength(1);
    expect(alarms[0]!.Properties.AlarmDescription).toContain('fleet.senderRequestsPerSecond');
  });
});
