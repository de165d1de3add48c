import { fromStreamImage } from '../../adapters/record-item';
import { asLambda } from '../middleware';
import { createProjectHandler } from '../project-handler';
import type { WiredSite } from './site';

/** `Project`, on the message table's stream: each new record into its document. */
export function wireProjector(site: WiredSite) {
  const { logger, metrics, documents, adapters } = site;
  return {
    Project: asLambda(createProjectHandler({ documents, recordOf: fromStreamImage, clock: adapters.ports.clock, logger, metrics }), {
      logger,
      metrics,
    }),
  };
}
