import { MAX_BODY_BYTES } from './limits';
import { CallbackError, ParseLimitError, PayloadTooLargeError, RecordTooLargeError, ValidationError } from './errors';
import type { Status } from './fields';

/*
 * The MIS's answer (spec §6) and the one table that maps every outcome and error
 * to an HTTP status and ack. Without a Success ack the sender re-sends (5 times by
 * default), so only a message we hold durably gets Success, and only a fault the
 * sender can fix by retrying gets 5xx.
 */

export interface Ack {
  readonly MessageId: string;
  readonly Message: string;
  readonly Status: Status;
}

export interface AckResponse {
  readonly statusCode: number;
  readonly ack: Ack;
}

export const ACK_TEXT = {
  accepted: 'Сообщение принято успешно',
  duplicate: 'Сообщение принято успешно (повторная доставка)',
  conflict: 'Сообщение с этим MessageId уже принято с другим содержимым',
  conflictType: 'Сообщение с этим MessageId уже принято с другим типом сообщения',
  undeliverable:
    'Сообщение сохранено, но очередь МИС отказалась его принять: повторная отправка не поможет, обратитесь к администратору МИС',
  rejected: 'Сообщение отклонено',
  tooLarge: 'Сообщение слишком велико',
  unavailable: 'Сервис временно недоступен, повторите отправку позже',
  internal: 'Внутренняя ошибка сервиса, повторите отправку позже',
} as const;

/** An ack given before any function runs (gateway, WAF, Lambda's own refusal): fixed text, no body read, so no MessageId. */
export const fixedAck = (Message: string): Ack => ({ MessageId: '', Message, Status: 'Failed' });

/** What the oversize guard (WAF deployed, the local gateway in `npm start`) answers a declared body over the limit. */
export const OVERSIZE_ACK = fixedAck(`${ACK_TEXT.tooLarge}: больше ${MAX_BODY_BYTES} байт`);

/** What the same guard answers a Content-Length that is not one plain decimal (a list, a sign, leading zeros). */
export const MALFORMED_LENGTH_ACK = fixedAck(
  `${ACK_TEXT.rejected}: недопустимый заголовок Content-Length (нужно одно десятичное число без ведущих нулей)`,
);

/** What became of a message that was read and checked: the ingest layer's outcome, by kind only. */
export type StoredKind = 'accepted' | 'duplicate' | 'conflict' | 'conflictType' | 'undeliverable';

export function ackForOutcome(kind: StoredKind, messageId: string): AckResponse {
  switch (kind) {
    case 'accepted':
      return { statusCode: 200, ack: { MessageId: messageId, Message: ACK_TEXT.accepted, Status: 'Success' } };
    case 'duplicate':
      return { statusCode: 200, ack: { MessageId: messageId, Message: ACK_TEXT.duplicate, Status: 'Success' } };
    case 'conflict':
      return { statusCode: 409, ack: { MessageId: messageId, Message: ACK_TEXT.conflict, Status: 'Failed' } };
    case 'conflictType':
      return { statusCode: 409, ack: { MessageId: messageId, Message: ACK_TEXT.conflictType, Status: 'Failed' } };
    // Stored, but never deliverable: not Success (a Success ack promises the queue), not 5xx (a retry meets
    // the same refusal). 422: the request was well-formed and valid, its content cannot be processed.
    case 'undeliverable':
      return { statusCode: 422, ack: { MessageId: messageId, Message: ACK_TEXT.undeliverable, Status: 'Failed' } };
  }
}

export function ackForError(error: unknown, messageId: string): AckResponse {
  const failed = (statusCode: number, Message: string): AckResponse => ({
    statusCode,
    ack: { MessageId: messageId, Message, Status: 'Failed' },
  });
  if (!(error instanceof CallbackError)) return failed(500, ACK_TEXT.internal);
  // 5xx: details (SDK errors, table names) stay in the logs; the sender only needs to retry.
  if (error.status >= 500) return failed(error.status, ACK_TEXT.unavailable);
  if (error instanceof RecordTooLargeError) {
    const field = error.field ? ` (больше всего места занимает поле ${error.field})` : '';
    return failed(413, `${ACK_TEXT.tooLarge} для хранения: ${error.size} байт, максимум ${error.limit} байт${field}`);
  }
  if (error instanceof PayloadTooLargeError) {
    return failed(413, `${ACK_TEXT.tooLarge}: ${error.size} байт, максимум ${error.limit} байт`);
  }
  if (error instanceof ParseLimitError) {
    const what =
      error.limit === 'extraKeys'
        ? `${error.count} полей вне таблицы типа в одном объекте JSON, максимум ${error.cap}`
        : `${error.count} элементов JSON (ключей и значений), максимум ${error.cap}`;
    return failed(413, `${ACK_TEXT.tooLarge} для разбора: ${what}`);
  }
  if (error instanceof ValidationError) {
    const fields = error.issues.map(({ field, reason }) => `${field} — ${reason}`).join('; ');
    return failed(400, `${ACK_TEXT.rejected}: ${fields}`);
  }
  return failed(error.status, `${ACK_TEXT.rejected}: ${error.message}`);
}

/** The id echoed in an ack: as the sender wrote it (it matches on its own string), bounded in size. */
export const echoId = (value: unknown): string => (typeof value === 'string' ? value.slice(0, 64) : '');
