import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatedSite } from '../../fleet/count';

/*
 * Synth of a fleet, measured as a user runs it: `npm run synth` (`cdk synth --quiet`, Lambda bundling by esbuild
 * included) over N generated site files, copies of cdk.json's first example site with ids fleet-0001…, in a child
 * process tree. It runs in a temporary project folder whose cdk.json is ours without the example `sites` (so N
 * means N) and with `sitesDir` at the generated files; the app command is cdk.json's `node --import tsx [node options]
 * bin/app.ts` with tsx's loader and our app by path (from the temporary folder, `--import tsx` would look for tsx there).
 *
 *   npx tsx dev/bench/synth-fleet.ts --sites 500 [--keep] [-c key=value …]
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'node_modules', '.bin');
const TIME = '/usr/bin/time';

export interface SynthMeasurement {
  readonly sites: number;
  /** Wall-clock seconds of the whole `cdk synth`, CLI start to exit. */
  readonly seconds: number;
  /** Peak memory of the process tree in MB (see `method`). */
  readonly peakMb: number;
  /** The largest single process's peak RSS in MB, as the kernel accounts it (GNU time). */
  readonly largestProcessMb: number | null;
  /** Stacks in the cloud assembly: the sites plus the account stack (and any other app-wide stack). */
  readonly stacks: number;
  readonly method: string;
}

export interface SynthOptions {
  readonly sites: number;
  /** Extra context (`-c key=value`), e.g. to compare a setting. */
  readonly context?: Readonly<Record<string, string>>;
  /** Keep the temporary folder (its path is printed) to read the templates. */
  readonly keep?: boolean;
}

export async function measureSynth(options: SynthOptions): Promise<SynthMeasurement> {
  const cdkJson = JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')) as {
    app: string;
    context: Record<string, unknown> & { sites: Array<Record<string, unknown>> };
  };
  const { sites: examples, ...context } = cdkJson.context;
  const work = mkdtempSync(join(tmpdir(), 'synth-fleet-'));
  const sitesDir = join(work, 'sites');
  const project = join(work, 'project');
  mkdirSync(sitesDir);
  mkdirSync(project);
  // The same generated sites `fleet plan --sites N` stands for (fleet/count.ts), one file each.
  for (let index = 1; index <= options.sites; index++) {
    const site = generatedSite(examples[0]!, index);
    writeFileSync(join(sitesDir, `${String(site.id)}.json`), JSON.stringify(site, null, 2));
  }
  writeFileSync(
    join(project, 'cdk.json'),
    // `examples`: the generated sites are copies of an example site (its mark kept), built only when asked for.
    JSON.stringify({ ...cdkJson, app: appCommand(cdkJson.app), context: { ...context, sitesDir, examples: true } }, null, 2),
  );
  const outdir = join(work, 'cdk.out');
  const cdkArgs = [
    'synth',
    '--no-notices',
    '--quiet',
    '-o',
    outdir,
    ...Object.entries(options.context ?? {}).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
  ];
  const timed = existsSync(TIME);
  const command = timed ? TIME : join(BIN, 'cdk');
  const args = timed ? ['-v', join(BIN, 'cdk'), ...cdkArgs] : cdkArgs;
  try {
    const started = performance.now();
    const child = spawn(command, args, {
      cwd: project,
      // tsx looks for tsconfig.json in the working directory: point it at ours, as in the project.
      env: {
        ...process.env,
        CDK_DISABLE_VERSION_CHECK: '1',
        CDK_DISABLE_CLI_TELEMETRY: '1',
        TSX_TSCONFIG_PATH: join(ROOT, 'tsconfig.json'),
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const sampler = sampleTree(child.pid!);
    const code = await new Promise<number | null>((done) => child.on('close', done));
    const seconds = (performance.now() - started) / 1000;
    const treePeakKb = sampler.stop();
    if (code !== 0) throw new Error(`cdk synth of ${options.sites} sites exited with ${code}:\n${stderr.slice(-4000)}`);
    const largestKb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1] ?? Number.NaN);
    const largestProcessMb = Number.isFinite(largestKb) ? Math.round(largestKb / 1024) : null;
    const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8')) as { artifacts: Record<string, { type: string }> };
    const stacks = Object.values(manifest.artifacts).filter((artifact) => artifact.type === 'aws:cloudformation:stack').length;
    if (options.keep) console.error(`kept ${work}`);
    return {
      sites: options.sites,
      seconds: Math.round(seconds * 10) / 10,
      peakMb: Math.max(Math.round(treePeakKb / 1024), largestProcessMb ?? 0),
      largestProcessMb,
      stacks,
      method:
        'cdk synth --quiet (esbuild bundling included) in a child process tree; peak = the larger of the tree’s summed RSS ' +
        `sampled every 100 ms from /proc and ${timed ? 'the largest process’s max RSS from GNU time -v' : '(no /usr/bin/time here)'}`,
    };
  } finally {
    if (!options.keep) rmSync(work, { recursive: true, force: true });
  }
}

/** cdk.json's app command (its node options included), with tsx's loader and our app by path: it runs in another folder. */
function appCommand(app: string): string {
  const prefix = 'node --import tsx ';
  if (!app.startsWith(prefix) || !app.endsWith(' bin/app.ts')) throw new Error(`cdk.json app "${app}": expected ${prefix}… bin/app.ts`);
  const options = app.slice(prefix.length, -' bin/app.ts'.length);
  return `node --import ${import.meta.resolve('tsx')} ${options} ${join(ROOT, 'bin', 'app.ts')}`.replace(/ {2,}/g, ' ');
}

/** Sums the RSS of `root` and its descendants every 100 ms (Linux /proc); the peak sum in kB. */
function sampleTree(root: number): { stop(): number } {
  let peak = 0;
  const sample = () => {
    if (!existsSync('/proc')) return;
    const parent = new Map<number, number>();
    const rss = new Map<number, number>();
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        const status = readFileSync(`/proc/${name}/status`, 'utf8');
        parent.set(Number(name), Number(/^PPid:\s+(\d+)/m.exec(status)?.[1] ?? 0));
        rss.set(Number(name), Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0));
      } catch {
        // The process ended between the listing and the read.
      }
    }
    let total = 0;
    for (const [pid, kb] of rss) {
      for (let at: number | undefined = pid; at !== undefined && at > 1; at = parent.get(at)) {
        if (at === root) {
          total += kb;
          break;
        }
      }
    }
    peak = Math.max(peak, total);
  };
  const timer = setInterval(sample, 100);
  return {
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  const at = argv.indexOf('--sites');
  const sites = at >= 0 ? Number(argv[at + 1]) : 50;
  const context: Record<string, string> = {};
  argv.forEach((arg, index) => {
    if (arg === '-c') {
      const [key, ...value] = argv[index + 1]!.split('=');
      context[key!] = value.join('=');
    }
  });
  const result = await measureSynth({ sites: Number.isInteger(sites) && sites > 0 ? sites : 50, context, keep: argv.includes('--keep') });
  console.log(JSON.stringify(result, null, 2));
}
