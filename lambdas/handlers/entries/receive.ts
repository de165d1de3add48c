import { wireReceivers } from '../wiring/receivers';
import { wireSite } from '../wiring/site';

/*
 * Deployed entry (lib/bundling.ts): the seven receiving functions, one per MessageType and `Fallback` for any other
 * path (handler `receive.<export>`). Wired from the function's environment once per cold start.
 */
export const { CDAStatus, SEMDStatus, REMDStatus, MseResult, MseResultData, VimisResult, Fallback } = wireReceivers(
  wireSite({ env: process.env }),
);
