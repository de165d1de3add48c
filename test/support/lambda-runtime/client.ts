import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/*
 * Which Runtime API client the function processes use. Lambda's Node.js runtime is aws-lambda-ric, whose
 * `next`/`done`/`error` calls go through its native addon `rapid-client.node` (AWS's C++ runtime client,
 * aws-lambda-cpp, with its own libcurl). npm 11 does not run the package's install script on `npm ci`
 * (scripts need an allow-list), so on a clean clone the addon is not there: it is built here the first time
 * with `npm rebuild aws-lambda-ric` (g++, cmake, make; a minute or a few on a busy machine). Only if it still
 * does not load, and only where N3_DEPLOYED_ALLOW_RIC_SHIM=1 says so, do the processes use the JS shim
 * (native-client.cjs: the same three calls over node:http); otherwise the tests stop with one line.
 */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const RIC_ADDON = fileURLToPath(new URL('../../../node_modules/aws-lambda-ric/rapid-client.node', import.meta.url));
/** The only way to run on the shim: said explicitly, for a machine that cannot build the addon. */
export const ALLOW_SHIM_ENV = 'N3_DEPLOYED_ALLOW_RIC_SHIM';
/** What the shim sends as User-Agent, so the Runtime API server can tell it from aws-lambda-cpp (`AWS_Lambda_Cpp/<version>`). */
export const SHIM_USER_AGENT = 'n3-deployed-tests-ric-shim';
export const NATIVE_USER_AGENT = /^AWS_Lambda_Cpp\/\d/;

export type RuntimeClient =
  | { readonly kind: 'native'; readonly addon: string; readonly built: boolean }
  | { readonly kind: 'shim'; readonly reason: string };

/** Loads the addon in the Lambda Node the way the runtime does; the addon reads AWS_LAMBDA_RUNTIME_API when it loads. */
function loadError(nodeBinary: string): string | undefined {
  const probe = spawnSync(nodeBinary, ['-e', `require(${JSON.stringify(RIC_ADDON)})`], {
    env: { PATH: process.env.PATH, AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (probe.status === 0) return undefined;
  const said = `${probe.stderr ?? ''}`.split('\n').find((line) => /error|cannot|not/i.test(line)) ?? `exit ${probe.status ?? probe.signal}`;
  return said.trim().slice(0, 200);
}

export function runtimeClient(nodeBinary: string): RuntimeClient {
  let built = false;
  let buildError: string | undefined;
  if (!existsSync(RIC_ADDON)) {
    try {
      execFileSync('npm', ['rebuild', 'aws-lambda-ric', '--ignore-scripts=false'], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 15 * 60_000,
      });
      built = true;
    } catch (error) {
      const stderr = String((error as { stderr?: Buffer }).stderr ?? '').trim();
      buildError = `npm rebuild aws-lambda-ric failed: ${stderr.split('\n').at(-1) ?? (error as Error).message}`;
    }
  }
  const reason = buildError ?? (existsSync(RIC_ADDON) ? loadError(nodeBinary) : 'rapid-client.node is missing after npm rebuild');
  if (reason === undefined) return { kind: 'native', addon: RIC_ADDON, built };
  if (process.env[ALLOW_SHIM_ENV] === '1') return { kind: 'shim', reason };
  throw new Error(
    `aws-lambda-ric's native Runtime API client does not load (${reason}): run \`npm rebuild aws-lambda-ric\` (needs g++, cmake, make), or set ${ALLOW_SHIM_ENV}=1 to run on the JS shim`,
  );
}

export function describeClient(client: RuntimeClient): string {
  return client.kind === 'native'
    ? `aws-lambda-ric's native rapid-client.node${client.built ? ' (built now by npm rebuild aws-lambda-ric)' : ''}`
    : `the JS shim of the Runtime API client (${ALLOW_SHIM_ENV}=1; the native addon did not load: ${client.reason})`;
}
