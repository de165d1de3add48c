import { mkdirSync } from 'node:fs';
import type { Metafile } from 'esbuild';
import { buildLambdaBundle, LAMBDA_ENTRY } from '../../lib/bundling';

/*
 * M1: bundle sizes, every one built with the stack's own esbuild settings (lib/bundling.ts):
 *  - deployed: the one entry every function ships (each function's asset is this entry, bundled alike);
 *  - the same with the AWS SDK left to the runtime, for comparison;
 *  - the SDK floor: three SDK clients and nothing else (dev/bench/entries/sdk-floor.ts);
 *  - per-function entries that are not deployed (dev/bench/entries/): what splitting the entry would save;
 *  - the peer as one function (dev/bench/peer/lambda.ts).
 */

export const BUNDLE_OUT = 'dev/bench/.out';

export interface Bundle {
  /** The output file, `<dir>/index.mjs` as Lambda resolves `index.<export>`. */
  readonly file: string;
  readonly entry: string;
  readonly bytes: number;
  /** The handlers it exports (one per function for the deployed entry). */
  readonly exports: string[];
}

export interface BundleReport {
  readonly deployed: Bundle & { readonly top: Array<{ name: string; bytes: number }> };
  readonly deployedWithoutSdkBytes: number;
  readonly sdkFloor: Bundle;
  readonly receiverOnly: Bundle;
  readonly projectOnly: Bundle;
  /** `Project` with only the DynamoDB client it calls. */
  readonly projectDynamoDbOnly: Bundle;
  readonly peer: Bundle;
}

const buildEntry = (entry: string, outfile: string, external?: readonly string[]): Promise<Metafile> =>
  buildLambdaBundle(outfile, external, entry);

async function bundle(name: string, entry: string): Promise<Bundle> {
  const dir = `${BUNDLE_OUT}/${name}`;
  mkdirSync(dir, { recursive: true });
  const file = `${dir}/index.mjs`;
  const output = (await buildEntry(entry, file)).outputs[file]!;
  return { file, entry, bytes: output.bytes, exports: output.exports };
}

export async function measureBundles(): Promise<BundleReport> {
  // Every bundle here is built by lib/bundling.ts's one function, so the sizes compare.
  mkdirSync(`${BUNDLE_OUT}/deployed`, { recursive: true });
  const file = `${BUNDLE_OUT}/deployed/index.mjs`;
  const deployedMeta = await buildLambdaBundle(file);
  const output = deployedMeta.outputs[file]!;
  const withoutSdkFile = `${BUNDLE_OUT}/deployed-no-sdk/index.mjs`;
  const withoutSdk = await buildEntry(LAMBDA_ENTRY, withoutSdkFile, ['@aws-sdk/*', '@smithy/*']);

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

  return {
    deployed: { file, entry: LAMBDA_ENTRY, bytes: output.bytes, exports: output.exports, top },
    deployedWithoutSdkBytes: withoutSdk.outputs[withoutSdkFile]!.bytes,
    sdkFloor: await bundle('sdk-floor', 'dev/bench/entries/sdk-floor.ts'),
    receiverOnly: await bundle('receiver-only', 'dev/bench/entries/receiver.ts'),
    projectOnly: await bundle('project-only', 'dev/bench/entries/project.ts'),
    projectDynamoDbOnly: await bundle('project-dynamodb-only', 'dev/bench/entries/project-dynamodb-only.ts'),
    peer: await bundle('peer', 'dev/bench/peer/lambda.ts'),
  };
}
