import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';

/*
 * How the Lambda functions are bundled, in one place: the CDK stack (NodejsFunction) and the
 * bundle-size benchmark use the same settings, so the benchmark measures what is deployed.
 */
export const LAMBDA_ENTRY = 'lambdas/handlers/index.ts';

export const ESBUILD_SETTINGS = {
  format: 'esm',
  minify: true,
  sourcemap: true,
  // Stack traces map to our files and lines; the sources themselves stay out of the map, which keeps
  // `--enable-source-maps` from costing ~10 ms of every cold start (measured, dev/bench/cold-start.ts).
  sourcesContent: false,
  target: 'node24',
  platform: 'node',
  mainFields: ['module', 'main'],
  // Bundle the AWS SDK too: pinned by our lock file, not by the runtime's copy.
  external: [] as string[],
  // ESM output: CommonJS dependencies still call require().
  banner: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  // Lambda's credentials are in the environment: the SDK's full default chain is not needed.
  alias: { '@aws-sdk/credential-provider-node': fileURLToPath(new URL('../lambdas/adapters/lambda-credentials.ts', import.meta.url)) },
} as const;

/**
 * Builds a bundle outside CDK with exactly the settings above (NodejsFunction passes the same to esbuild):
 * by default the deployed entry, which the bundle benchmark measures (the deployed-bundle tests run the asset
 * `cdk synth` writes); the benchmark also builds other entries (`entry`, relative to the project) to compare.
 * `outfile` should be `<dir>/index.mjs`, the name Lambda's `index.<export>` handler resolves.
 */
export async function buildLambdaBundle(
  outfile: string,
  external: readonly string[] = ESBUILD_SETTINGS.external,
  entry: string = LAMBDA_ENTRY,
): Promise<Metafile> {
  const { metafile } = await build({
    entryPoints: [fileURLToPath(new URL(`../${entry}`, import.meta.url))],
    outfile,
    bundle: true,
    metafile: true,
    format: ESBUILD_SETTINGS.format,
    minify: ESBUILD_SETTINGS.minify,
    sourcemap: ESBUILD_SETTINGS.sourcemap,
    sourcesContent: ESBUILD_SETTINGS.sourcesContent,
    target: ESBUILD_SETTINGS.target,
    platform: ESBUILD_SETTINGS.platform,
    mainFields: [...ESBUILD_SETTINGS.mainFields],
    external: [...external],
    banner: { js: ESBUILD_SETTINGS.banner },
    alias: { ...ESBUILD_SETTINGS.alias },
    logLevel: 'silent',
  });
  return metafile;
}
