import { describe, expect, it } from 'vitest';
import {
  InvalidBodyError,
  MethodNotAllowedError,
  ParseLimitError,
  PayloadTooLargeError,
  QueueUnavailableError,
  RecordTooLargeError,
  StoreUnavailableError,
  UnknownMessageTypeError,
  ValidationError,
} from '../../contract/errors';
import { ACK_TEXT, ackForError, ackForOutcome, echoId } from '../../contract/ack';

const id = 'b097fea5-e6f6-4417-9829-53ab6a562719';

describe('ack', () => {
  it('answers the spec example ack for a new message', () => {
    expect(ackForOutcome('accepted', id)).toEqual({
      statusCode: 200,
      ack: { MessageId: id, Message: 'Сообщение принято успешно', Status: 'Success' },
    });
  });

  it('answers Success to a duplicate so that the sender stops re-sending', () => {
    const { statusCode, ack } = ackForOutcome('duplicate', id);
    expect([statusCode, ack.Status]).toEqual([200, 'Success']);
  });

  it('answers 409 Failed to the same id with other content', () => {
    const { statusCode, ack } = ackForOutcome('conflict', id);
    expect([statusCode, ack.Status, ack.Message]).toEqual([409, 'Failed', ACK_TEXT.conflict]);
  });

  it('answers 409 Failed, saying so, to the same id under another type', () => {
    const { statusCode, ack } = ackForOutcome('conflictType', id);
    expect([statusCode, ack.Status, ack.Message]).toEqual([409, 'Failed', ACK_TEXT.conflictType]);
  });

  it('answers a stored message the queue refuses for good with 422 Failed: not Success (never on the queue), not 5xx (a retry cannot help)', () => {
    const { statusCode, ack } = ackForOutcome('undeliverable', id);
    expect([statusCode, ack.Status, ack.Message]).toEqual([422, 'Failed', ACK_TEXT.undeliverable]);
  });

  it('says which field makes a record too large to store', () => {
    const { statusCode, ack } = ackForError(new RecordTooLargeError(460_000, 408_576, 'IdSourceMis'), id);
    expect(statusCode).toBe(413);
    expect(ack.Message).toBe(
      'Сообщение слишком велико для хранения: 460000 байт, максимум 408576 байт (больше всего места занимает поле IdSourceMis)',
    );
  });

  it.each([
    [new InvalidBodyError('x'), 400],
    [new ValidationError([{ field: 'Lpu', reason: 'r' }]), 400],
    [new UnknownMessageTypeError('x'), 404],
    [new MethodNotAllowedError('x'), 405],
    [new PayloadTooLargeError(11, 10), 413],
    [new ParseLimitError('tokens', 11, 10), 413],
    [new RecordTooLargeError(11, 10, undefined), 413],
    [new StoreUnavailableError('x'), 503],
    [new QueueUnavailableError('x'), 503],
    [new TypeError('bug'), 500],
  ])('maps %s to HTTP %i with a Failed ack echoing the id', (error, status) => {
    const { statusCode, ack } = ackForError(error, id);
    expect(statusCode).toBe(status);
    expect(ack).toMatchObject({ MessageId: id, Status: 'Failed' });
  });

  it('names each bad field and why in a validation ack', () => {
    const { ack } = ackForError(
      new ValidationError([
        { field: 'Lpu', reason: 'обязательное поле отсутствует' },
        { field: 'IdMedDocument', reason: 'ожидается целое число' },
      ]),
      id,
    );
    expect(ack.Message).toBe('Сообщение отклонено: Lpu — обязательное поле отсутствует; IdMedDocument — ожидается целое число');
  });

  it('keeps internal details out of 5xx acks', () => {
    const store = ackForError(new StoreUnavailableError('table n3-prod-messages throttled', { cause: new Error('secret') }), id);
    const bug = ackForError(new TypeError("Cannot read properties of undefined (reading 'payload')"), id);
    expect(store.ack.Message).toBe(ACK_TEXT.unavailable);
    expect(bug.ack.Message).toBe(ACK_TEXT.internal);
  });

  it('says how large is too large', () => {
    expect(ackForError(new PayloadTooLargeError(5_000_000, 4_194_304), id).ack.Message).toContain('5000000 байт, максимум 4194304');
  });

  it('says which parse limit a body passed, by how much, and the cap', () => {
    expect(ackForError(new ParseLimitError('extraKeys', 300_000, 200), id)).toEqual({
      statusCode: 413,
      ack: {
        MessageId: id,
        Message: 'Сообщение слишком велико для разбора: 300000 полей вне таблицы типа в одном объекте JSON, максимум 200',
        Status: 'Failed',
      },
    });
    expect(ackForError(new ParseLimitError('tokens', 20_001, 20_000), id).ack.Message).toBe(
      'Сообщение слишком велико для разбора: 20001 элементов JSON (ключей и значений), максимум 20000',
    );
  });

  it('echoes only a string id, bounded', () => {
    expect(echoId(42)).toBe('');
    expect(echoId('x'.repeat(500))).toHaveLength(64);
  });
});
