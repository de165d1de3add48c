import type { Target } from './target';

/*
 * The audit trail of actions that change a site's data or its queue (issue 27): who, when, the command and its
 * selection, counts and outcome, recorded before and after the action in the site's own storage.
 * THIS IS THE INTERFACE ONLY, agreed between the helpers building `replay` and `readmit`/`audit`: `audited`
 * runs the action; the recording is being built on the s6-audit branch.
 */

export interface AuditedAction {
  /** The command as typed, e.g. `replay`, `rejected readmit`, `redrive`, `reproject`, `expect`. */
  readonly command: string;
  /** The selection it acts on (flags, ids, windows): never payload text. */
  readonly selection: Readonly<Record<string, unknown>>;
  readonly dryRun?: boolean;
}

export interface AuditOutcome {
  /** What it did, counted (e.g. `{ sent: 12, skipped: 1 }`). */
  readonly counts: Readonly<Record<string, number>>;
}

/** Runs `run` between a "started" and a "finished"/"failed" record of it. */
export async function audited<T extends AuditOutcome>(_target: Target, _action: AuditedAction, run: () => Promise<T>): Promise<T> {
  return run();
}
