import { randomUUID } from 'node:crypto';
import type { LocalInfo } from '../../contract/local';
import { EXAMPLES } from '../../testing/messages';
import { messageFrom, startChild, stopChild } from './child';
import { openLoop, type OpenLoopReport } from './open-loop';
import { Progress } from '../../cli/ui';

/* M6: ack latency of the whole local product (DynamoDB Local, fauxqs) at a fixed open-loop rate. */

export async function measureEmulatorLatency(
  rate = 200,
  seconds = 30,
  dynamo: 'dynamodb-local' | 'dynalite' = 'dynamodb-local',
): Promise<OpenLoopReport & { dynamodb: string }> {
  const child = startChild('dev/bench/servers.ts', ['stack'], { BENCH_DYNAMO: dynamo });
  try {
    const info = await messageFrom<LocalInfo>(child, 'info');
    const url = `${info.baseUrl}REMDStatus`;
    const send = async () => {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json; charset=utf-8' },
        body: JSON.stringify({ ...EXAMPLES.REMDStatus, MessageId: randomUUID() }),
      });
      const ack = (await response.json()) as { Status?: string };
      return response.status === 200 && ack.Status === 'Success';
    };
    // Steady state, not start-up: the JVM of DynamoDB Local compiles its hot paths first.
    await openLoop({ rate: rate / 2, seconds: 5, send });
    const progress = new Progress(rate * seconds);
    const report = await openLoop({ rate, seconds, onProgress: (sent) => progress.update(sent, 'M6 requests sent'), send });
    progress.done();
    return { ...report, dynamodb: info.dynamodbEmulator };
  } finally {
    await stopChild(child);
  }
}
