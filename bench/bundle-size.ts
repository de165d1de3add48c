import { mkdirSync } from 'node:fs';
import { buildLambdaBundle } from '../lib/bundling';

/*
 * M1: the deployed bundle (same esbuild settings as the stack), its size and what makes it up.
 * All seven functions share this one bundle (one entry, one export each).
 */

export interface BundleReport {
  readonly file: string;
  readonly bytes: number;
  readonly top: Array<{ name: string; bytes: number }>;
  /** The same bundle with the AWS SDK left to the runtime, for comparison. */
  readonly bytesWithoutSdk: number;
}

export const BUNDLE_OUT = 'bench/.out';

export async function measureBundle(): Promise<BundleReport> {
  mkdirSync(BUNDLE_OUT, { recursive: true });
  const file = `${BUNDLE_OUT}/index.mjs`;
  const deployed = await buildLambdaBundle(file);
  const withoutSdk = await buildLambdaBundle(`${BUNDLE_OUT}/index-no-sdk.mjs`, ['@aws-sdk/*', '@smithy/*']);
  const output = deployed.outputs[file]!;
  const byPackage = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
    const name = match ? match[1]! : `(ours) ${input.split('/').slice(0, 2).join('/')}`;
    byPackage.set(name, (byPackage.get(name) ?? 0) + bytesInOutput);
  }
  const top = [...byPackage.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8)
    .map(([name, bytes]) => ({ name, bytes }));
  return { file, bytes: output.bytes, top, bytesWithoutSdk: withoutSdk.outputs[`${BUNDLE_OUT}/index-no-sdk.mjs`]!.bytes };
}
