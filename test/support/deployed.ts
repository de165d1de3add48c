import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildLambdaBundle } from '../../lib/bundling';
import type { CallbackStack } from '../../lib/callback-stack';
import { defineApp } from '../../lib/app';
import { LOCAL_REGION } from '../../local/clients';
import { provision, type Resources } from '../../local/provision';
import { LambdaProcess, type FunctionSpec } from './lambda-runtime/runtime-api';

/*
 * A site as `cdk deploy` would make it, on the emulators: the functions' bundle built with the
 * stack's esbuild settings, each function's handler, memory, timeout and environment read from the
 * synthesised template, and each run as its own process under AWS's runtime interface client on
 * Lambda's Node (nodejs24.x: Node 24 from the npm registry, see scripts/node-version.sh).
 */

export const DEPLOYED_SITE = {
  id: 'mo-deployed',
  displayName: 'Deployed-bundle test site',
  senderCidrs: ['198.51.100.0/24'],
  secretPathSegment: 'deployedSecret0123456789',
  lpuAllowlist: ['20dfadd0-c709-43b0-a130-5a16301b0217'],
  retentionDays: 30,
};

const CDK_JSON_CONTEXT = (await import('../../cdk.json', { with: { type: 'json' } })).default.context;

/** Lambda's own Node major version for our runtime (nodejs24.x), or this Node with a note where it cannot be had. */
export function lambdaNode(): { binary: string; version: string } {
  try {
    const script = fileURLToPath(new URL('../../scripts/node-version.sh', import.meta.url));
    const binary = execFileSync('bash', [script, '24'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 120_000 }).trim();
    return { binary, version: execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim() };
  } catch {
    console.warn(`deployed-bundle tests: Node 24 could not be fetched; running on this Node ${process.version}`);
    return { binary: process.execPath, version: process.version };
  }
}

/** Each function of the site stack as the template defines it, with references to our resources resolved. */
export function functionSpecs(stack: CallbackStack, resources: Resources): FunctionSpec[] {
  const template = Template.fromStack(stack);
  const resolved: Record<string, string> = {
    TABLE_NAME: resources.tableName,
    DOCUMENTS_TABLE_NAME: resources.documentsTableName,
    QUEUE_URL: resources.queueUrl,
    BUCKET_NAME: resources.bucket,
  };
  return Object.values(template.findResources('AWS::Lambda::Function')).map(({ Properties: p }) => {
    const environment = Object.fromEntries(
      Object.entries(p.Environment.Variables as Record<string, unknown>).map(([name, value]) => {
        if (typeof value === 'string') return [name, value];
        if (resolved[name] === undefined) throw new Error(`function environment ${name} is a reference this test cannot resolve: map it`);
        return [name, resolved[name]];
      }),
    );
    const handler = p.Handler as string;
    return {
      name: handler.replace(/^index\./, ''),
      handler,
      environment,
      memoryMb: p.MemorySize as number,
      timeoutSeconds: p.Timeout as number,
    };
  });
}

export interface DeployedSite {
  readonly stack: CallbackStack;
  readonly resources: Resources;
  readonly node: { binary: string; version: string };
  readonly functions: Readonly<Record<string, LambdaProcess>>;
  /** Starts one more process of a function with some variables changed (a broken queue, say). */
  variant(name: string, env: Record<string, string>): Promise<LambdaProcess>;
  stop(): Promise<void>;
}

export async function startDeployedSite(emulators: { dynamodb: string; sqs: string }): Promise<DeployedSite> {
  const dir = mkdtempSync(join(tmpdir(), 'n3-deployed-'));
  const outdir = mkdtempSync(join(tmpdir(), 'cdk-deployed-'));
  const processes: LambdaProcess[] = [];
  try {
    await buildLambdaBundle(join(dir, 'index.mjs'));
    const app = new App({
      outdir,
      context: { ...CDK_JSON_CONTEXT, sites: [DEPLOYED_SITE], site: DEPLOYED_SITE.id, 'aws:cdk:bundling-stacks': [] },
    });
    const [stack] = defineApp(app);
    app.synth();
    const resources = await provision(
      { dynamodb: emulators.dynamodb, sqs: emulators.sqs, s3: emulators.sqs },
      { prefix: `deployed-${Date.now()}` },
    );
    const node = lambdaNode();
    const specs = functionSpecs(stack!, resources);
    const options = {
      bundleDir: dir,
      nodeBinary: node.binary,
      region: LOCAL_REGION,
      extraEnv: {
        // Not Lambda's: where the emulators are, and how the bucket emulator wants to be addressed.
        AWS_ENDPOINT_URL_DYNAMODB: emulators.dynamodb,
        AWS_ENDPOINT_URL_SQS: emulators.sqs,
        AWS_ENDPOINT_URL_S3: emulators.sqs,
        S3_FORCE_PATH_STYLE: 'true',
        ...(node.version.startsWith('v20') ? { NODE_OPTIONS: '--enable-source-maps --disable-warning=NodeVersionSupportWarning' } : {}),
      },
    };
    const start = async (spec: FunctionSpec, env: Record<string, string> = {}) => {
      const started = await LambdaProcess.start(spec, { ...options, extraEnv: { ...options.extraEnv, ...env } });
      processes.push(started);
      return started;
    };
    const functions = Object.fromEntries(await Promise.all(specs.map(async (spec) => [spec.name, await start(spec)] as const)));
    return {
      stack: stack!,
      resources,
      node,
      functions,
      variant: (name, env) => start(specs.find((s) => s.name === name)!, env),
      stop: async () => {
        await Promise.all(processes.map((p) => p.stop()));
        rmSync(dir, { recursive: true, force: true });
        rmSync(outdir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await Promise.all(processes.map((p) => p.stop()));
    rmSync(dir, { recursive: true, force: true });
    rmSync(outdir, { recursive: true, force: true });
    throw error;
  }
}
