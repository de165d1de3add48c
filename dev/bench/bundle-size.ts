import { mkdirSync, rmSync } from 'node:fs';
import { basename } from 'node:path';
import type { Metafile } from 'esbuild';
import { buildLambdaBundles, LAMBDA_ENTRIES, type LambdaEntry, staticClosure } from '../../lib/bundling';

/*
 * M1: bundle sizes, every one built with the stack's own esbuild options (lib/bundling.ts):
 *  - deployed: the one asset every function ships, four entries with code splitting; a function's bundle is what it
 *    loads at its cold start, its entry and the chunks that entry imports statically (not the chunks a dynamic
 *    import() loads on first use); `deployed` is the largest of them, `functions` all four, `assetBytes` the asset;
 *  - the same with the AWS SDK left to the runtime, for comparison;
 *  - the SDK floor: three SDK clients and nothing else (dev/bench/entries/sdk-floor.ts);
 *  - `Project` with only its DynamoDB client (dev/bench/entries/project-dynamodb-only.ts, not deployed);
 *  - the peer as one function (dev/bench/peer/lambda.ts).
 * `receiverOnly` and `projectOnly` are now the deployed `receive` and `project` entries (they were per-function
 * entries measured beside the one shared bundle).
 */

export const BUNDLE_OUT = 'dev/bench/.out';

export interface Bundle {
  /** The entry's output file (`<dir>/<name>.mjs`), what a cold start imports. */
  readonly file: string;
  readonly entry: string;
  /** The entry and the chunks it imports statically: what its cold start reads. */
  readonly bytes: number;
  /** The handlers it exports (one per function). */
  readonly exports: string[];
}

export interface BundleReport {
  readonly deployed: Bundle & { readonly top: Array<{ name: string; bytes: number }> };
  readonly deployedWithoutSdkBytes: number;
  /** Each deployed entry's bundle (its cold-start bytes) and exports. */
  readonly functions: Readonly<Record<LambdaEntry, { readonly bytes: number; readonly exports: string[] }>>;
  /** Every .mjs file of the deployed asset, the lazily loaded chunks (S3, the document store) included. */
  readonly assetBytes: number;
  readonly sdkFloor: Bundle;
  readonly receiverOnly: Bundle;
  readonly projectOnly: Bundle;
  /** `Project` with only the DynamoDB client it calls. */
  readonly projectDynamoDbOnly: Bundle;
  readonly peer: Bundle;
}

/** Builds `entries` into `dir` (emptied first) and describes each entry's bundle. */
async function bundles(dir: string, entries: Readonly<Record<string, string>>, external?: readonly string[]) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const metafile = await buildLambdaBundles(dir, entries, external);
  const outputOf = (name: string) => Object.keys(metafile.outputs).find((path) => basename(path) === `${name}.mjs`)!;
  const described = Object.fromEntries(
    Object.entries(entries).map(([name, entry]) => {
      const output = outputOf(name);
      const closure = staticClosure(metafile, output);
      const bundle: Bundle = {
        file: `${dir}/${name}.mjs`,
        entry,
        bytes: closure.reduce((sum, path) => sum + metafile.outputs[path]!.bytes, 0),
        exports: metafile.outputs[output]!.exports,
      };
      return [name, { bundle, closure }];
    }),
  );
  return { metafile, described };
}

async function single(name: string, entry: string): Promise<Bundle> {
  return (await bundles(`${BUNDLE_OUT}/${name}`, { index: entry })).described.index!.bundle;
}

/** Bytes in the output by package (ours by folder), over the files given. */
function byPackage(metafile: Metafile, files: readonly string[]): Array<{ name: string; bytes: number }> {
  const sizes = new Map<string, number>();
  for (const file of files) {
    for (const [input, { bytesInOutput }] of Object.entries(metafile.outputs[file]!.inputs)) {
      const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
      const name = match ? match[1]! : `(ours) ${input.split('/').slice(0, 2).join('/')}`;
      sizes.set(name, (sizes.get(name) ?? 0) + bytesInOutput);
    }
  }
  return [...sizes.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8)
    .map(([name, bytes]) => ({ name, bytes }));
}

export async function measureBundles(): Promise<BundleReport> {
  // Every bundle here is built by lib/bundling.ts's one function, so the sizes compare.
  const deployed = await bundles(`${BUNDLE_OUT}/deployed`, LAMBDA_ENTRIES);
  const withoutSdk = await bundles(`${BUNDLE_OUT}/deployed-no-sdk`, LAMBDA_ENTRIES, ['@aws-sdk/*', '@smithy/*']);
  const names = Object.keys(LAMBDA_ENTRIES) as LambdaEntry[];
  const largest = (report: typeof deployed) =>
    names.map((name) => report.described[name]!).reduce((a, b) => (b.bundle.bytes > a.bundle.bytes ? b : a));
  const biggest = largest(deployed);
  const assetBytes = Object.entries(deployed.metafile.outputs)
    .filter(([path]) => path.endsWith('.mjs'))
    .reduce((sum, [, output]) => sum + output.bytes, 0);

  return {
    deployed: { ...biggest.bundle, top: byPackage(deployed.metafile, biggest.closure) },
    deployedWithoutSdkBytes: largest(withoutSdk).bundle.bytes,
    functions: Object.fromEntries(
      names.map((name) => [name, { bytes: deployed.described[name]!.bundle.bytes, exports: deployed.described[name]!.bundle.exports }]),
    ) as BundleReport['functions'],
    assetBytes,
    sdkFloor: await single('sdk-floor', 'dev/bench/entries/sdk-floor.ts'),
    receiverOnly: deployed.described.receive!.bundle,
    projectOnly: deployed.described.project!.bundle,
    projectDynamoDbOnly: await single('project-dynamodb-only', 'dev/bench/entries/project-dynamodb-only.ts'),
    peer: await single('peer', 'dev/bench/peer/lambda.ts'),
  };
}
