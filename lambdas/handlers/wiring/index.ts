import { wireDocumentsApi } from './documents';
import { wireProjector } from './projector';
import { wireReceivers } from './receivers';
import { type WiringOptions, wireSite } from './site';
import { wireSweep } from './sweep';

export type { WiredSite, WiringOptions } from './site';
export {
  createReadmitter,
  type ReadmitOutcome,
  type ReadmitResult,
  type ReadmitSite,
  type ReadmitTarget,
  type Readmitter,
} from './readmit';
export { wireDocumentsApi, wireProjector, wireReceivers, wireSite, wireSweep };

/** Every function of a site, wired once: what npm start serves (each deployed entry wires its own part: lambdas/handlers/entries/). */
export function wireFunctions(options: WiringOptions) {
  const site = wireSite(options);
  return { ...wireReceivers(site), ...wireSweep(site), ...wireProjector(site), ...wireDocumentsApi(site) };
}

export type SiteFunctions = ReturnType<typeof wireFunctions>;
