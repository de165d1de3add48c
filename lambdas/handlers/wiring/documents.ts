import { createDocumentsHandler } from '../documents-handler';
import { asLambda } from '../middleware';
import type { WiredSite } from './site';

/** `Documents`, the document API (IAM-authorised routes under /documents). */
export function wireDocumentsApi(site: WiredSite) {
  const { logger, documents, adapters, config } = site;
  return {
    Documents: asLambda(createDocumentsHandler({ documents, clock: adapters.ports.clock, logger, retentionDays: config.RETENTION_DAYS }), {
      logger,
    }),
  };
}
