import { asLambda } from '../middleware';
import { createReconcileHandler } from '../reconcile-handler';
import { createSilenceHandler } from '../silence-handler';
import { createSweepHandler } from '../sweep-handler';
import type { WiredSite } from './site';

/** `Sweep` on the fleet's tick, and its two jobs, `Reconcile` and `Silence` (npm start runs them on its own timers). */
export function wireSweep(site: WiredSite) {
  const { config, logger, metrics, adapters, documents, receive } = site;
  const reconcile = createReconcileHandler({
    ports: adapters.ports,
    settings: { graceSeconds: config.RECONCILE_GRACE_SECONDS, batch: config.RECONCILE_BATCH },
    logger,
    metrics,
  });
  const silence = createSilenceHandler({ documents, clock: adapters.ports.clock, logger, metrics });
  return {
    Reconcile: asLambda(reconcile, receive),
    Silence: asLambda(silence, receive),
    Sweep: asLambda(createSweepHandler({ reconcile, silence }), receive),
  };
}
