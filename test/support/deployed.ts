import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { defineApp } from '../../lib/app';
import { LOCAL_REGION } from '../../local/clients';
import { provision, type Resources } from '../../local/provision';
import { describeClient, runtimeClient, type RuntimeClient } from './lambda-runtime/client';
import { LambdaProcess, type FunctionSpec } from './lambda-runtime/runtime-api';

/*
 * A site as `cdk deploy` would ship it, run on the emulators: the stack synthesised as `cdk synth` does
 * (bundling on, with the local esbuild NodejsFunction uses; asset metadata on) into a temporary cdk.out;
 * each function's handler, runtime, memory, timeout, environment and code directory read from that
 * template (the code is the `cdk.out/asset.<hash>` its `aws:asset:path` names, the same hash CloudFormation
 * uploads as `<hash>.zip`); each function run as its own process under AWS's runtime interface client on
 * the Node major version the template's runtime names (Node 24 from the npm registry for nodejs24.x,
 * dev/scripts/node-version.sh), through aws-lambda-ric's native Runtime API client (lambda-runtime/client.ts).
 */

export const DEPLOYED_SITE = {
  id: 'mo-deployed',
  displayName: 'Deployed-bundle test site',
  example: true,
  senderCidrs: ['198.51.100.0/24'],
  secretPathSegment: 'deployedSecret0123456789',
  lpuAllowlist: ['20dfadd0-c709-43b0-a130-5a16301b0217'],
  retentionDays: 30,
  // Off by default (the fleet dashboard shows every site); on here so that its series are checked against what is emitted.
  dashboard: true,
  // Its own key, for the KeyUnusable alarm a kms site has (the emulators ignore encryption; the grants are IAM's).
  encryption: 'kms',
};

// No sites/<id>.json: the deployed-bundle site is the only one.
const CDK_JSON_CONTEXT = {
  ...(await import('../../cdk.json', { with: { type: 'json' } })).default.context,
  sitesDir: join(tmpdir(), 'n3-callback-tests-no-site-files'),
};

/**
 * What the CDK CLI adds to cdk.json's context on `cdk synth`: asset metadata (which names each function's
 * asset directory in the template) and every stack bundled.
 */
const CLI_SYNTH_CONTEXT = { 'aws:cdk:enable-asset-metadata': true, 'aws:cdk:bundling-stacks': ['**'] };

export interface CfnResource {
  readonly Type: string;
  readonly Properties: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
}
export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
}

/** The Node major version a Lambda runtime identifier names: `nodejs24.x` → 24. */
export function runtimeMajor(runtime: string): number {
  const match = /^nodejs(\d+)\.x$/.exec(runtime);
  if (!match) throw new Error(`function runtime ${runtime} is not a Lambda Node.js runtime (nodejs<major>.x)`);
  return Number(match[1]);
}

/** A Node.js binary of exactly this major version (dev/scripts/node-version.sh), or an error that says why not in one line. */
export function lambdaNode(major: number): { binary: string; version: string } {
  const script = fileURLToPath(new URL('../../dev/scripts/node-version.sh', import.meta.url));
  try {
    const binary = execFileSync('bash', [script, String(major)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 300_000,
    }).trim();
    return { binary, version: execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim() };
  } catch (error) {
    // npm's answer is many lines (a stack, a log path): keep the one that says what went wrong.
    const lines = `${(error as { stderr?: string }).stderr ?? ''}`
      .split('\n')
      .map((line) => line.replace(/^npm (error|ERR!)\s*/, '').trim())
      .filter(Boolean);
    const said =
      lines.find((line) => /FetchError|reason:|No matching version|notarget|E404|ENOTFOUND|EAI_AGAIN|ETIMEDOUT/i.test(line)) ??
      lines.find((line) => line.startsWith('code ')) ??
      lines.at(-1);
    throw new Error(
      `Node ${major} (the template's nodejs${major}.x) could not be had: dev/scripts/node-version.sh ${major} failed (${said ?? (error as Error).message}); the deployed-bundle tests run only on Lambda's Node major version: give the script the npm registry or a filled N3_NODE_CACHE`,
    );
  }
}

/** Each function of the site stack as the synthesised template defines it, with references to our resources resolved. */
export function functionSpecs(template: CfnTemplate, assemblyDir: string, resources: Resources): FunctionSpec[] {
  const resolved: Record<string, string> = {
    TABLE_NAME: resources.tableName,
    DOCUMENTS_TABLE_NAME: resources.documentsTableName,
    QUEUE_URL: resources.queueUrl,
    BUCKET_NAME: resources.bucket,
  };
  return Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === 'AWS::Lambda::Function')
    .map(([logicalId, { Properties: p, Metadata: metadata }]) => {
      const environment = Object.fromEntries(
        Object.entries((p.Environment as { Variables: Record<string, unknown> }).Variables).map(([name, value]) => {
          if (typeof value === 'string') return [name, value];
          if (resolved[name] === undefined) throw new Error(`function environment ${name} is a reference this test cannot resolve: map it`);
          return [name, resolved[name]];
        }),
      );
      const assetPath = metadata?.['aws:asset:path'];
      if (typeof assetPath !== 'string')
        throw new Error(`function ${logicalId} has no aws:asset:path metadata: synthesise with asset metadata on`);
      const codeDir = join(assemblyDir, assetPath);
      const handler = p.Handler as string;
      // `<entry>.<export>`: the export of <entry>.mjs (lib/bundling.ts), as Lambda resolves it.
      const [, entry, name] = /^([\w-]+)\.(\w+)$/.exec(handler) ?? [];
      if (!entry || !existsSync(join(codeDir, `${entry}.mjs`)))
        throw new Error(`function ${logicalId}: handler ${handler} names no <entry>.mjs in ${codeDir}, its asset (aws:asset:path)`);
      return {
        name: name!,
        handler,
        runtime: p.Runtime as string,
        codeDir,
        environment,
        memoryMb: p.MemorySize as number,
        timeoutSeconds: p.Timeout as number,
      };
    });
}

export interface DeployedSite {
  /** The synthesised template of the site stack, as `cdk synth` wrote it. */
  readonly template: CfnTemplate;
  /** The cloud assembly directory (the temporary cdk.out). */
  readonly assemblyDir: string;
  readonly resources: Resources;
  readonly node: { binary: string; version: string };
  readonly client: RuntimeClient;
  readonly functions: Readonly<Record<string, LambdaProcess>>;
  /** Every process started, variants included (their output stays readable after they stop). */
  readonly processes: readonly LambdaProcess[];
  /** One line for the test output: which Node, which Runtime API client, which code. */
  readonly summary: string;
  /** Starts one more process of a function with some variables changed (a broken queue, say). */
  variant(name: string, env: Record<string, string>): Promise<LambdaProcess>;
  stop(): Promise<void>;
}

export async function startDeployedSite(emulators: { dynamodb: string; sqs: string }): Promise<DeployedSite> {
  const outdir = mkdtempSync(join(tmpdir(), 'cdk-deployed-'));
  const processes: LambdaProcess[] = [];
  const cleanUp = async () => {
    await Promise.all(processes.map((p) => p.stop()));
    rmSync(outdir, { recursive: true, force: true });
  };
  try {
    const app = new App({
      outdir,
      context: { ...CDK_JSON_CONTEXT, ...CLI_SYNTH_CONTEXT, sites: [DEPLOYED_SITE], site: DEPLOYED_SITE.id },
    });
    const [stack] = defineApp(app);
    const assembly = app.synth();
    const template = assembly.getStackArtifact(stack!.artifactId).template as CfnTemplate;
    const resources = await provision(
      { dynamodb: emulators.dynamodb, sqs: emulators.sqs, s3: emulators.sqs },
      { prefix: `deployed-${Date.now()}` },
    );
    const specs = functionSpecs(template, assembly.directory, resources);
    const runtimes = [...new Set(specs.map((s) => s.runtime))];
    if (runtimes.length !== 1) throw new Error(`the functions use several runtimes (${runtimes.join(', ')}): run each on its own Node`);
    const node = lambdaNode(runtimeMajor(runtimes[0]!));
    const client = runtimeClient(node.binary);
    const options = {
      nodeBinary: node.binary,
      client,
      region: LOCAL_REGION,
      extraEnv: {
        // Not Lambda's: where the emulators are, how the bucket emulator wants to be addressed, and the
        // emulators' deadlines (lambdas/contract/deadlines.ts: slower than AWS on a loaded machine).
        AWS_ENDPOINT_URL_DYNAMODB: emulators.dynamodb,
        AWS_ENDPOINT_URL_SQS: emulators.sqs,
        AWS_ENDPOINT_URL_S3: emulators.sqs,
        S3_FORCE_PATH_STYLE: 'true',
        SDK_DEADLINES: 'emulators',
      },
    };
    const start = async (spec: FunctionSpec, env: Record<string, string> = {}) => {
      const started = await LambdaProcess.start(spec, { ...options, extraEnv: { ...options.extraEnv, ...env } });
      processes.push(started);
      return started;
    };
    const functions = Object.fromEntries(await Promise.all(specs.map(async (spec) => [spec.name, await start(spec)] as const)));
    const assets = [...new Set(specs.map((s) => relative(assembly.directory, s.codeDir)))];
    return {
      template,
      assemblyDir: assembly.directory,
      resources,
      node,
      client,
      functions,
      processes,
      summary: `deployed-bundle tests: Node ${node.version} (template ${runtimes[0]}), Runtime API client: ${describeClient(client)}, code: cdk.out/${assets.join(', ')}`,
      variant: (name, env) => start(specs.find((s) => s.name === name)!, env),
      stop: cleanUp,
    };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}

/** One metric series: namespace, name and its dimensions (name → value; `{Ref…}` values read as `(ref)`). */
export interface Series {
  readonly namespace: string;
  readonly name: string;
  readonly dimensions: Readonly<Record<string, string>>;
}

/** Every metric series the site's dashboard plots, read from the template's DashboardBody. */
export function dashboardSeries(template: CfnTemplate): Series[] {
  const dashboards = Object.values(template.Resources).filter((r) => r.Type === 'AWS::CloudWatch::Dashboard');
  if (dashboards.length !== 1) throw new Error(`expected one dashboard in the site template, found ${dashboards.length}`);
  const body = dashboards[0]!.Properties.DashboardBody as string | { 'Fn::Join': [string, unknown[]] };
  // References (region, function and queue names) sit inside JSON strings: stand in a marker for each.
  const text = typeof body === 'string' ? body : body['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : '(ref)')).join('');
  const { widgets } = JSON.parse(text) as { widgets: Array<{ properties: { metrics?: unknown[][] } }> };
  return widgets.flatMap((widget) =>
    (widget.properties.metrics ?? []).flatMap((row): Series[] => {
      if (typeof row[0] !== 'string') return []; // a math expression: its inputs are rows of their own
      const fields = row.filter((cell): cell is string => typeof cell === 'string');
      if (fields.some((f) => f === '.' || f === '..'))
        throw new Error(`dashboard row uses the "." shorthand: teach dashboardSeries to read it`);
      const [namespace, name, ...pairs] = fields;
      const dimensions: Record<string, string> = {};
      for (let i = 0; i < pairs.length; i += 2) dimensions[pairs[i]!] = pairs[i + 1]!;
      return [{ namespace: namespace!, name: name!, dimensions }];
    }),
  );
}

/** A reference in a dimension value, as a marker naming what it refers to: `(ref FunctionsSweepE321ADB6)`. */
function dimensionValue(value: unknown): string {
  if (typeof value === 'string') return value;
  const o = (value ?? {}) as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
  if (typeof o.Ref === 'string') return `(ref ${o.Ref})`;
  if (Array.isArray(o['Fn::GetAtt'])) return `(ref ${o['Fn::GetAtt'].join('.')})`;
  return '(ref)';
}

/** Each alarm of the template with every metric series it reads (a single metric, or each input of metric math). */
export function alarms(template: CfnTemplate): Array<{ logicalId: string; series: Series[] }> {
  return Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === 'AWS::CloudWatch::Alarm')
    .map(([logicalId, resource]) => {
      const series: Series[] = [];
      const walk = (node: unknown): void => {
        if (!node || typeof node !== 'object') return;
        const o = node as Record<string, unknown>;
        if (typeof o.Namespace === 'string' && typeof o.MetricName === 'string') {
          const dims = (o.Dimensions ?? []) as Array<{ Name: string; Value: unknown }>;
          series.push({
            namespace: o.Namespace,
            name: o.MetricName,
            dimensions: Object.fromEntries(dims.map((d) => [d.Name, dimensionValue(d.Value)])),
          });
        }
        for (const child of Object.values(o)) walk(child);
      };
      walk(resource.Properties);
      return { logicalId, series };
    });
}

/** Every metric series an alarm of the template reads. */
export const alarmSeries = (template: CfnTemplate): Series[] => alarms(template).flatMap((alarm) => alarm.series);

/** A series as one comparable line: `name dim=value,dim=value` (dimensions sorted). */
export const seriesKey = (name: string, dimensions: Readonly<Record<string, string>>) =>
  `${name} ${Object.entries(dimensions)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(',')}`;
