import { execFileSync, spawnSync } from 'node:child_process';

/*
 * Which code a benchmark run measured. The figures in docs/benchmarks.json describe one commit; they
 * stay true only while the code that ships (and the bench itself, and the locked dependency versions
 * that make up most of the bundle) is what that commit holds. test/unit/benchmarks-doc.test.ts fails
 * as soon as HEAD differs from the recorded commit in any of these paths.
 */
export const MEASURED_PATHS = ['contract', 'lambdas', 'lib', 'dev/bench', 'package-lock.json'] as const;

export interface Provenance {
  /** The full commit id of HEAD when the run started. */
  readonly commit: string;
  /** Measured paths with uncommitted changes (tracked or untracked) when the run started; empty: clean. */
  readonly dirty: string[];
}

const git = (args: string[]) => execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

export function provenance(): Provenance {
  const commit = git(['rev-parse', 'HEAD']).trim();
  const status = git(['status', '--porcelain', '--untracked-files=all', '--', ...MEASURED_PATHS]);
  // `XY path` (or `XY old -> new`): keep the path, and only its top-level folder or file.
  const dirty = [
    ...new Set(
      status
        .split('\n')
        .filter(Boolean)
        .map((line) => line.slice(3).split(' -> ').pop()!)
        .map((path) => MEASURED_PATHS.find((measured) => path === measured || path.startsWith(`${measured}/`)) ?? path),
    ),
  ];
  return { commit, dirty };
}

/** The measured paths that differ between a commit and HEAD; throws when git does not know the commit. */
export function changedSince(commit: string, head = 'HEAD'): string[] {
  const known = spawnSync('git', ['cat-file', '-e', `${commit}^{commit}`], { stdio: 'ignore' });
  if (known.status !== 0) throw new Error(`commit ${commit} is not in this clone (a shallow clone? fetch its history)`);
  return MEASURED_PATHS.filter((path) => spawnSync('git', ['diff', '--quiet', commit, head, '--', path], { stdio: 'ignore' }).status !== 0);
}
