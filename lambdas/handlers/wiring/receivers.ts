import type { MessageType } from '../../../contract/catalog';
import { asLambda } from '../middleware';
import { createReceiveHandler } from '../receive-handler';
import type { WiredSite } from './site';

/** The seven receiving functions: one per MessageType (each its own Lambda function) and `Fallback` for any other path. */
export function wireReceivers(site: WiredSite) {
  const entry = (type: MessageType | undefined) => asLambda(createReceiveHandler(type, site.receive), site.receive);
  return {
    CDAStatus: entry('CDAStatus'),
    SEMDStatus: entry('SEMDStatus'),
    REMDStatus: entry('REMDStatus'),
    MseResult: entry('MseResult'),
    MseResultData: entry('MseResultData'),
    VimisResult: entry('VimisResult'),
    Fallback: entry(undefined),
  } satisfies Record<MessageType | 'Fallback', unknown>;
}
