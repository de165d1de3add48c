import { fileURLToPath } from 'node:url';
import { build, type BuildOptions, buildSync, type Metafile } from 'esbuild';

/*
 * How the Lambda functions are bundled, in one place: the CDK stack (lib/functions.ts, one asset every function of
 * every site shares) and the bundle-size benchmark build with the same options, so the benchmark measures what is
 * deployed.
 *
 * One esbuild run, four entries (one per kind of function) and code splitting: each function loads its own entry and
 * the chunks that entry imports, never another function's code; what several share is one chunk; and what a
 * dynamic import() loads (the S3 client and the bucket's stores, the document store: lambdas/adapters/aws.ts) is a
 * chunk of its own, read only when a request first needs it. All of it is one directory, one asset: hashed, staged and
 * uploaded once for the whole fleet, as the single bundle was.
 */

/** The deployed entries, by the name of the file they become (`<name>.mjs`; a function's handler is `<name>.<export>`). */
export const LAMBDA_ENTRIES = {
  receive: 'lambdas/handlers/entries/receive.ts',
  sweep: 'lambdas/handlers/entries/sweep.ts',
  project: 'lambdas/handlers/entries/project.ts',
  documents: 'lambdas/handlers/entries/documents.ts',
} as const;
export type LambdaEntry = keyof typeof LAMBDA_ENTRIES;

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
  // ESM output: CommonJS dependencies still call require(). Every output file (entry or chunk) gets it.
  banner: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  // Lambda's credentials are in the environment: the SDK's full default chain is not needed.
  alias: { '@aws-sdk/credential-provider-node': fileURLToPath(new URL('../lambdas/adapters/lambda-credentials.ts', import.meta.url)) },
} as const;

/** esbuild's options for `entries` (names → paths relative to the project) into `outdir`. */
function buildOptions(outdir: string, entries: Readonly<Record<string, string>>, external: readonly string[]): BuildOptions {
  return {
    entryPoints: Object.fromEntries(
      Object.entries(entries).map(([name, entry]) => [name, fileURLToPath(new URL(`../${entry}`, import.meta.url))]),
    ),
    outdir,
    bundle: true,
    splitting: true,
    // `.mjs`: Lambda's Node loads a file as ESM by its extension (no package.json in the asset); chunks import each other by these names.
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunk-[hash]',
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
  };
}

/**
 * The deployed code into `outdir` (CDK's local bundling calls this: its interface is synchronous). Throws on any
 * esbuild error, with esbuild's messages.
 */
export function buildLambdaCodeSync(outdir: string): void {
  buildSync(buildOptions(outdir, LAMBDA_ENTRIES, ESBUILD_SETTINGS.external));
}

/**
 * Builds outside CDK with exactly the options above: by default the deployed entries, which the bundle benchmark
 * measures (the deployed-bundle tests run the asset `cdk synth` writes); the benchmark also builds other entries
 * (names → paths relative to the project) to compare, each into `<outdir>/<name>.mjs`.
 */
export async function buildLambdaBundles(
  outdir: string,
  entries: Readonly<Record<string, string>> = LAMBDA_ENTRIES,
  external: readonly string[] = ESBUILD_SETTINGS.external,
): Promise<Metafile> {
  const { metafile } = await build(buildOptions(outdir, entries, external));
  return metafile!;
}

/**
 * What a function loads at its cold start: its entry file and every chunk it imports statically, transitively
 * (not the chunks behind a dynamic import(), which load on first use). Paths as the metafile names them.
 */
export function staticClosure(metafile: Metafile, entryOutput: string): string[] {
  const seen = new Set<string>();
  const visit = (path: string) => {
    if (seen.has(path)) return;
    seen.add(path);
    for (const imported of metafile.outputs[path]?.imports ?? [])
      if (imported.kind === 'import-statement' && !imported.external) visit(imported.path);
  };
  visit(entryOutput);
  return [...seen];
}
