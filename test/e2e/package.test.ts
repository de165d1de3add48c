import { type ChildProcessWithoutNullStreams, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { MESSAGE_TYPES } from '../../contract/catalog';
import { until } from '../support/wait';

/*
 * The consumer package as an MIS team gets it: `npm run pack:consumer`'s tarball, installed with npm into a
 * project outside this repository, imported by plain node. The README's consumer snippet is taken from the
 * README verbatim (between its `consumer-snippet` markers) and run as pasted, against `npm start` with the
 * `export` lines `npm start` prints, as a person copies them.
 */

const exec = promisify(execFile);
const REPO = new URL('../..', import.meta.url).pathname;

/** The README's snippet, byte for byte: the fenced block between `<!-- consumer-snippet: <file> -->` and `<!-- /consumer-snippet -->`. */
function readmeSnippet(): { file: string; code: string } {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const match = /<!-- consumer-snippet: (\S+) -->\n```js\n([\s\S]*?)```\n<!-- \/consumer-snippet -->/.exec(readme);
  if (!match) throw new Error('README.md has no consumer snippet between <!-- consumer-snippet: <file> --> and <!-- /consumer-snippet -->');
  return { file: match[1]!, code: match[2]! };
}

/** The environment of a shell that has none of this machine's AWS settings (HOME is the empty project: no ~/.aws). */
function cleanEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_') && !name.startsWith('N3_') && name !== 'NODE_OPTIONS'),
  );
  return { ...env, HOME: home, ...extra };
}

interface Running {
  readonly child: ChildProcessWithoutNullStreams;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
}

function run(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Running {
  const child = spawn(command, args, { ...options, stdio: 'pipe' });
  // A failing check must not leave a consumer or npm start (and its JVM) running.
  onTestFinished(() => void (child.exitCode === null && child.signalCode === null && child.kill('SIGKILL')));
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

// npm install (from the npm cache when it can), a build and `npm start` on a shared machine: minutes, not seconds.
describe('the consumer package, installed into a project of its own', { timeout: 300_000 }, () => {
  let project: string;
  let tarball: string;
  const snippet = readmeSnippet();

  beforeAll(async () => {
    await exec('npm', ['run', 'pack:consumer', '--silent'], { cwd: REPO });
    tarball = join(REPO, 'dist', readdirSync(join(REPO, 'dist')).find((f) => /^n3-callback-consumer-.*\.tgz$/.test(f))!);
    project = mkdtempSync(join(tmpdir(), 'mis-project-'));
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'mis-project', private: true, type: 'module' }));
    await exec('npm', ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: project });
    writeFileSync(join(project, snippet.file), snippet.code);
  }, 300_000);
  afterAll(() => {
    if (project) rmSync(project, { recursive: true, force: true });
  });

  it('holds JavaScript, its types and package.json only, importing nothing it does not declare', async () => {
    const { stdout } = await exec('tar', ['tzf', tarball]);
    const files = stdout.split('\n').filter(Boolean).sort();
    expect(files.every((f) => f === 'package/package.json' || f.startsWith('package/dist/'))).toBe(true);
    const installed = join(project, 'node_modules', '@n3-callback', 'consumer');
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const sources = files
      .filter((f) => /\.(js|d\.ts)$/.test(f))
      .map((f) => ({ file: f, text: readFileSync(join(installed, f.slice('package/'.length)), 'utf8') }));
    for (const { file, text } of sources) {
      for (const [, specifier] of text.matchAll(/(?:from |import\()["']([^"']+)["']/g)) {
        if (specifier!.startsWith('.')) {
          // A relative import stays inside the package: the file it names is in the tarball.
          const target = join(file.slice(0, file.lastIndexOf('/')), specifier!).replace(/\.js$/, file.endsWith('.d.ts') ? '.d.ts' : '.js');
          expect(files, `${file} imports ${specifier}`).toContain(target);
        } else if (!specifier!.startsWith('node:')) {
          const name = specifier!
            .split('/')
            .slice(0, specifier!.startsWith('@') ? 2 : 1)
            .join('/');
          expect(Object.keys(manifest.dependencies), `${file} imports ${specifier}`).toContain(name);
        }
      }
    }
    const { stdout: loaded } = await exec(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "const m = await import('@n3-callback/consumer'); console.log(typeof m.createCallbackConsumer, m.MESSAGE_TYPES.length)",
      ],
      { cwd: project, env: cleanEnv(project) },
    );
    expect(loaded.trim()).toBe(`function ${MESSAGE_TYPES.length}`);
  });

  it("types each handler's payload for a TypeScript project resolving as Node does", async () => {
    writeFileSync(
      join(project, 'typed.ts'),
      [
        "import { createCallbackConsumer, type CallbackMessage } from '@n3-callback/consumer';",
        "const remd = (m: CallbackMessage<'REMDStatus'>): string => m.payload.IdFedRequest;",
        "// @ts-expect-error a CDA's IdMedDocument is a number (were the package's types lost, any would pass, and this line fail)",
        "const cda = (m: CallbackMessage<'CDAStatus'>): string => m.payload.IdMedDocument;",
        "createCallbackConsumer({ queueUrl: 'q', handlers: { REMDStatus: async (m) => void remd(m) } }).stopOnSignals();",
        'void cda;',
      ].join('\n'),
    );
    const tsc = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
    const args = ['--noEmit', '--strict', '--skipLibCheck', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022'];
    const result = await exec(process.execPath, [tsc, ...args, 'typed.ts'], { cwd: project }).catch((error: { stdout: string }) => error);
    expect(result.stdout).toBe('');
  });

  it('runs the README snippet as pasted against npm start: the six examples arrive, and Ctrl-C stops it, saying so', async () => {
    const start = run(process.execPath, ['--import', 'tsx', '--disable-warning=NodeVersionSupportWarning', 'local/start.ts'], {
      cwd: REPO,
      env: { ...process.env, PORT: '0', SITE_ID: 'snippet' },
    });
    // What a person copies from npm start's output into the consumer's terminal: its `export` lines.
    const exports = await until(
      () => (/export AWS_ENDPOINT_URL_SQS=/.test(start.output()) ? start.output() : undefined),
      'npm start to print its export lines',
      240_000,
    );
    const exported: Record<string, string> = {};
    for (const line of exports.split('\n').filter((l) => l.trim().startsWith('export '))) {
      for (const [, name, value] of line.matchAll(/(\w+)=(\S+)/g)) exported[name!] = value!;
    }
    expect(new URL(exported.N3_QUEUE_URL!).hostname).toBe('127.0.0.1');

    const consumer = run(process.execPath, [snippet.file], { cwd: project, env: cleanEnv(project, exported) });
    await until(() => (consumer.output().includes('consuming') ? true : undefined), 'the snippet to start', 60_000);
    const sent = new Map<string, string>();
    for (const type of MESSAGE_TYPES) {
      const body = readFileSync(join(REPO, 'examples', `${type}.json`));
      const response = await fetch(new URL(type, exported.N3_CALLBACK_BASE), { method: 'POST', body });
      expect(((await response.json()) as { Status: string }).Status).toBe('Success');
      sent.set(type, String((JSON.parse(body.toString()) as { MessageId: string }).MessageId).toLowerCase());
    }
    const lines = await until(
      () => {
        const printed = consumer.output().split('\n');
        const arrived = [...sent].filter(([type, id]) => printed.some((l) => l.startsWith(`${type} ${id}`)));
        return arrived.length === sent.size ? printed : undefined;
      },
      'the six examples printed by the snippet',
      120_000,
    );
    expect(lines.filter((l) => MESSAGE_TYPES.some((t) => l.startsWith(`${t} `)))).toHaveLength(6);

    // Waiting in a 20 s long poll now: Ctrl-C cuts it short.
    consumer.child.kill('SIGINT');
    expect(await consumer.exited).toBe(0);
    expect(consumer.output()).toContain('SIGINT: stopping after the message in hand');
    expect(consumer.output().trimEnd().endsWith('stopped')).toBe(true);
    start.child.kill('SIGTERM');
    expect(await start.exited).toBe(0);
  });

  it('pointed at a queue without a region, says so in a line or two over 3 s instead of spinning, and stops on SIGTERM', async () => {
    const consumer = run(process.execPath, [snippet.file], {
      cwd: project,
      env: cleanEnv(project, {
        N3_QUEUE_URL: 'https://sqs.eu-central-1.amazonaws.com/123456789012/nowhere.fifo',
        AWS_ACCESS_KEY_ID: 'none',
        AWS_SECRET_ACCESS_KEY: 'none',
        // No region anywhere: not in the environment, and no ~/.aws/config in this HOME.
        AWS_CONFIG_FILE: join(project, 'no-aws-config'),
      }),
    });
    await until(() => (consumer.output().includes('Region is missing') ? true : undefined), 'the first report', 60_000);
    // The window the issue measured (2,150 lines in 3 s before the backoff): what it prints in it, not how fast.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    // On Node 20 the AWS SDK warns once that its 2027 releases need Node 22: the MIS's Node, not an error report.
    const printed = consumer
      .output()
      .replace(/\(node:\d+\) Warning: NodeVersionSupportWarning[\s\S]*?to show where the warning was created\)\n/, '')
      .split('\n')
      .filter(Boolean);
    expect(printed.filter((l) => l.includes('Region is missing'))).toHaveLength(1);
    expect(printed.length).toBeLessThanOrEqual(3);
    consumer.child.kill('SIGTERM');
    expect(await consumer.exited).toBe(0);
    expect(consumer.output()).toContain('SIGTERM: stopping after the message in hand');
  });
});
