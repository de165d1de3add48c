import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSites } from '../../lib/site-config';
import { removeSyntheses, synthSites } from '../infra/synth';

/*
 * Finding (part of "The document API…"): the document routes had no throttle of their own, only the
 * stage's 100 requests a second meant for the sender. API Gateway applies a stage's limits to each method
 * separately, but every API of the account in the region shares one request quota and every function one
 * Lambda concurrency quota: a busy MIS client polling documents spends what the sender's callbacks need.
 * Now each document method has its own, lower limit (a site setting).
 */

const site = { id: 'mo-t', displayName: 'Больница', example: true, senderCidrs: ['198.51.100.0/24'], retentionDays: 30 };

interface MethodSetting {
  HttpMethod: string;
  ResourcePath: string;
  ThrottlingRateLimit?: number;
  ThrottlingBurstLimit?: number;
  LoggingLevel?: string;
  DataTraceEnabled?: boolean;
  MetricsEnabled?: boolean;
}

describe('the document routes', () => {
  let byDefault: MethodSetting[];
  let configured: MethodSetting[];
  let documentMethods: Array<{ HttpMethod: string }>;

  beforeAll(() => {
    const { templates } = synthSites([site, { ...site, id: 'mo-t2', maxRequestsPerSecond: 50, documentRequestsPerSecond: 3 }]);
    const settings = (i: number) =>
      Object.values(templates[i]!.findResources('AWS::ApiGateway::Stage'))[0]!.Properties.MethodSettings as MethodSetting[];
    [byDefault, configured] = [settings(0), settings(1)];
    documentMethods = Object.values(
      templates[0]!.findResources('AWS::ApiGateway::Method', { Properties: { AuthorizationType: 'AWS_IAM' } }),
    ).map((m) => m.Properties);
  }, 180_000); // synthesis with cdk-nag: seconds, a minute on a busy machine
  afterAll(removeSyntheses);

  const documentSettings = (settings: MethodSetting[]) => settings.filter((s) => s.ResourcePath.startsWith('/~1documents'));

  it('have a throttle of their own on every document method, far below the sender’s', () => {
    const stage = byDefault.find((s) => s.ResourcePath === '/*' && s.HttpMethod === '*')!;
    expect([stage.ThrottlingRateLimit, stage.ThrottlingBurstLimit]).toEqual([100, 200]);
    const documents = documentSettings(byDefault);
    expect(documents.map((s) => `${s.HttpMethod} ${s.ResourcePath}`).sort()).toEqual([
      'GET /~1documents',
      'GET /~1documents~1{documentId}',
      'PUT /~1documents~1{documentId}~1expectations~1{stage}',
    ]);
    // One setting per document method the API has (they are the IAM-authorised ones).
    expect(documents).toHaveLength(documentMethods.length);
    for (const setting of documents) {
      expect(setting).toMatchObject({ ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 });
      // A method's settings replace the stage's for it: logging and metrics stay as the stage has them, bodies unlogged.
      expect(setting).toMatchObject({ LoggingLevel: stage.LoggingLevel, DataTraceEnabled: false, MetricsEnabled: stage.MetricsEnabled });
    }
  });

  it('take the site’s documentRequestsPerSecond (burst twice it)', () => {
    const documents = documentSettings(configured);
    expect(documents).toHaveLength(3);
    for (const setting of documents) expect(setting).toMatchObject({ ThrottlingRateLimit: 3, ThrottlingBurstLimit: 6 });
  });

  it('may not be allowed more than the sender, and follow a sender limit set lower than their default', () => {
    expect(() => parseSites([{ ...site, documentRequestsPerSecond: 101 }])).toThrow(
      /^[^\n]*site "mo-t": documentRequestsPerSecond: at most maxRequestsPerSecond \(100\)/,
    );
    expect(parseSites([{ ...site, maxRequestsPerSecond: 4 }])[0]!.documentRequestsPerSecond).toBe(4);
  });
});
