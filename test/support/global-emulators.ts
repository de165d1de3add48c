import '../../local/quiet-sdk-warning';
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { startDynamo, startFauxqs } from '../../local/emulators';
import { requireTool, TOOLS } from './tools';

/*
 * One DynamoDB Local (AWS's own, on Java) and one fauxqs for the whole run. A test file
 * that needs them provisions uniquely named resources, so files never see each other's data.
 * dynalite is started per file where a test wants the no-Java path. Without Java the run stops here,
 * with one line: the receive tests' main backend would otherwise quietly become dynalite.
 */

declare module 'vitest' {
  export interface ProvidedContext {
    emulators: { dynamodb: string; dynamodbKind: 'dynamodb-local' | 'dynalite'; sqs: string };
  }
}

export default async function setup(project: TestProject) {
  requireTool(TOOLS.java);
  const [dynamo, fauxqs] = await Promise.all([startDynamo(), startFauxqs()]);
  project.provide('emulators', { dynamodb: dynamo.endpoint, dynamodbKind: dynamo.kind, sqs: fauxqs.endpoint });
  return async () => {
    await Promise.all([dynamo.stop(), fauxqs.stop()]);
  };
}
