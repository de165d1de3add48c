import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, CloudFormationValidatePlugin, type IPolicyValidationContext } from 'aws-cdk-lib';
import { afterAll, describe, expect, it } from 'vitest';
import { ParallelCloudFormationValidatePlugin } from '../../lib/cfn-validate-parallel';

/*
 * The parallel CloudFormation validation a fleet synth uses (lib/cfn-validate-parallel.ts) must say exactly what
 * CDK's own plugin says, one template at a time on one thread: same violations, merged across the workers' shares.
 */

const dir = mkdtempSync(join(tmpdir(), 'cfn-validate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Templates with known faults spread over every share: an unknown property, a wrong type, a clean one. */
function templates(count: number) {
  return Array.from({ length: count }, (_, index) => {
    const bucket =
      index % 3 === 0
        ? { Type: 'AWS::S3::Bucket', Properties: { NotAProperty: true } }
        : index % 3 === 1
          ? { Type: 'AWS::SQS::Queue', Properties: { DelaySeconds: 'soon' } }
          : { Type: 'AWS::SNS::Topic', Properties: {} };
    const templatePath = join(dir, `stack-${index}.template.json`);
    writeFileSync(templatePath, JSON.stringify({ Resources: { [`Thing${index}`]: bucket } }));
    return { stackConstructPath: `Stack${index}`, templatePath, accountId: undefined, region: undefined };
  });
}

describe('parallel CloudFormation validation', () => {
  it('reports what the stock plugin reports, with the templates split across worker threads', () => {
    const stackTemplates = templates(6);
    const context: IPolicyValidationContext = {
      templatePaths: stackTemplates.map((s) => s.templatePath),
      stackTemplates,
      appConstruct: new App(),
    };
    const stock = new CloudFormationValidatePlugin();
    const parallel = new ParallelCloudFormationValidatePlugin(1, 3);
    try {
      const expected = stock.validate(context);
      expect(expected.violations.length).toBeGreaterThan(0); // the fixtures do have faults
      expect(parallel.validate(context)).toEqual(expected);
    } finally {
      stock._dispose();
      parallel._dispose();
    }
  }, 120_000);
});
