import { wireFunctions } from './wiring';

/*
 * The deployed entry point: one export per MessageType (each its own Lambda function), `Fallback` for any
 * other path, `Project` on the table's stream, `Documents` for the document API and `Sweep` on the fleet's
 * tick (its two jobs, `Reconcile` and `Silence`, are exported too). Wired from the function's environment
 * once per cold start (wiring/), the same wiring npm start and the benchmarks use.
 */
export const {
  CDAStatus,
  SEMDStatus,
  REMDStatus,
  MseResult,
  MseResultData,
  VimisResult,
  Fallback,
  Reconcile,
  Silence,
  Sweep,
  Project,
  Documents,
} = wireFunctions({ env: process.env });
