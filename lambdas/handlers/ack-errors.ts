import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type middy from '@middy/core';
import { ackForError, type AckResponse } from '../../contract/ack';
import { CallbackError, ValidationError } from '../../contract/errors';
import { UUID } from '../../contract/fields';
import { UNKNOWN_TYPE } from '../../contract/observability';
import { sniffMessageId } from '../protocol/decode';
import { countKeyUnusable, KEY_UNUSABLE_LOG } from './key-unusable';
import { countOutcome, type Received } from './received';

/**
 * The receiving handler's `onError` (as @middy/http-error-handler is a REST handler's): whatever the handler threw
 * becomes the ack the sender gets, 5xx only where a retry can help, and is logged and counted. A request refused
 * for what it is (a CallbackError below 500) is marked a rejection, for keep-rejected.ts to count and keep;
 * anything else failed: counted as such, the KMS key named where it was the cause.
 */
export function ackErrors({ logger, metrics }: { logger: Logger; metrics: Metrics }): middy.MiddlewareObj<Received, AckResponse> {
  return {
    name: 'ackErrors',
    onError: (request) => {
      const received = request.event;
      const error = request.error;
      received.messageId ||= sniffMessageId(received.raw);
      const response = ackForError(error, received.messageId);
      const { messageType, bytes } = received;
      // One line per request with its outcome and type (contract/observability.ts LOG_FIELDS): the site dashboard counts them.
      const log = {
        ...received.origin,
        messageId: loggable(received.messageId),
        messageType: messageType ?? UNKNOWN_TYPE,
        bytes,
        httpStatus: response.statusCode,
      };
      if (error instanceof CallbackError && error.status < 500) {
        received.rejection = { code: error.code, reason: error.message };
        // Our own reasons name fields and kinds of fault, never the values sent.
        logger.warn('rejected', {
          ...log,
          outcome: 'rejected',
          code: error.code,
          reason: error instanceof ValidationError ? error.issues : error.message,
        });
      } else {
        // Whatever the handler had marked before it failed, a failure is not kept: the sender retries it.
        received.rejection = undefined;
        countOutcome(metrics, 'failed');
        // The one failure an operator must fix by hand at the key, not wait out: counted for its own alarm.
        const kmsError = countKeyUnusable(error, metrics);
        if (kmsError) logger.error(`failed: ${KEY_UNUSABLE_LOG}`, { ...log, outcome: 'failed', kmsError, error: error as Error });
        else logger.error('failed', { ...log, outcome: 'failed', error: error as Error });
      }
      request.response = response;
    },
  };
}

/** A rejected request's MessageId may be anything the sender typed: only a real UUID goes into a log. */
const loggable = (messageId: string) => (messageId === '' || UUID.test(messageId) ? messageId : '(not a UUID)');
