import { wireReceivers } from '../../../lambdas/handlers/wiring/receivers';
import { wireSite } from '../../../lambdas/handlers/wiring/site';

/*
 * Measurement only, never deployed: the deployed entry cut down to the seven receiving functions (the six
 * types and Fallback), through the deployed wiring. Bundled with the stack's settings it shows what a
 * per-function entry would save a receiver (M1, M2): the projector, the document API and the sweep stay out.
 */
export const { CDAStatus, SEMDStatus, REMDStatus, MseResult, MseResultData, VimisResult, Fallback } = wireReceivers(
  wireSite({ env: process.env }),
);
