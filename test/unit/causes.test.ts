import { describe, expect, it } from 'vitest';
import { CAUSE_EXAMPLES, CAUSE_RULES, CAUSES, causeOf, type FailedAnswer, summariseCauses } from '../../contract/causes';

let n = 0;
const failed = (message: string, messageType = 'REMDStatus', statusCode?: number): FailedAnswer => ({
  messageId: `m-${++n}`,
  messageType,
  receivedAt: `2026-11-26T10:${String(n % 60).padStart(2, '0')}:00.000Z`,
  documentKey: `doc-${n}`,
  message,
  ...(statusCode !== undefined ? { statusCode } : {}),
});

describe('errors by cause', () => {
  it.each([
    ['Ошибка проверки электронной подписи: сертификат отозван', 'signature'],
    ['Не удалось проверить ЭП врача', 'signature'],
    ['Ошибка валидации подписи документа', 'signature'],
    ['Не указан СНИЛС пациента', 'patient'],
    ['Пациент с указанным полисом ОМС не найден', 'patient'],
    ['Врач не найден в ФРМР', 'clinician'],
    ['Должность медицинского работника не соответствует', 'clinician'],
    ['Организация не найдена в ФРМО', 'organisation'],
    ['Значение не соответствует справочнику НСИ 1.2.643.5.1.13.13.11.1005', 'reference'],
    ['Код не найден в справочнике', 'reference'],
    ['Документ уже зарегистрирован в РЭМД', 'registration'],
    ['Превышено время ожидания ответа от РЭМД', 'communication'],
    ['Сервис ИЭМК недоступен', 'communication'],
    ['Внутренняя ошибка сервиса', 'technical'],
    ['System.NullReferenceException: Object reference not set', 'technical'],
    ['Документ не прошёл ФЛК: не заполнено обязательное поле', 'structure'],
    ['XML не соответствует схеме XSD', 'structure'],
    ['Что-то пошло не так', 'unclassified'],
    ['', 'unclassified'],
  ])('%j is %s', (message, cause) => {
    expect(causeOf({ message, messageType: 'REMDStatus' })).toBe(cause);
  });

  it('reads Cyrillic abbreviations as whole words only (ЭП is not inside ЭПИКРИЗ)', () => {
    expect(causeOf({ message: 'ЭПИКРИЗ не сформирован', messageType: 'CDAStatus' })).toBe('unclassified');
    expect(causeOf({ message: 'ОМСК', messageType: 'CDAStatus' })).toBe('unclassified');
  });

  it('applies a rule to its message types only: a duplicate is a registration cause for REMD, not for a CDA', () => {
    expect(causeOf({ message: 'Дублирование документа', messageType: 'REMDStatus' })).toBe('registration');
    expect(causeOf({ message: 'Дублирование документа', messageType: 'CDAStatus' })).toBe('unclassified');
  });

  it('matches a rule by StatusCode when the rule names codes', () => {
    const rules = [{ cause: 'communication' as const, statusCodes: [7] }, ...CAUSE_RULES];
    expect(causeOf({ message: 'текст без признаков', messageType: 'VimisResult', statusCode: 7 }, rules)).toBe('communication');
    expect(causeOf({ message: 'текст без признаков', messageType: 'VimisResult', statusCode: 8 }, rules)).toBe('unclassified');
  });

  it('counts by cause and type, most frequent first, unclassified included, with the newest examples (ids and text)', () => {
    const answers = [
      ...Array.from({ length: 7 }, () => failed('Не указан СНИЛС пациента')),
      failed('Не указан СНИЛС пациента', 'CDAStatus'),
      failed('Врач не найден в ФРМР'),
      failed('???'),
      failed('непонятно', 'VimisResult', 3),
    ];
    const summary = summariseCauses(answers);
    expect(summary.total).toBe(11);
    expect(summary.causes.map((c) => [c.cause, c.count])).toEqual([
      ['patient', 8],
      ['unclassified', 2],
      ['clinician', 1],
    ]);
    const patient = summary.causes[0]!;
    expect(patient.byType).toEqual({ REMDStatus: 7, CDAStatus: 1 });
    expect(patient.examples).toHaveLength(CAUSE_EXAMPLES);
    expect(patient.examples[0]!.messageId).toBe(answers[7]!.messageId);
    expect(summary.causes[1]!.examples.map((e) => e.statusCode)).toContain(3);
  });

  it('has a label in both languages for every cause, and every rule names a known cause', () => {
    for (const cause of CAUSES) expect(cause.ru && cause.en).toBeTruthy();
    const ids = new Set(CAUSES.map((c) => c.id));
    for (const rule of CAUSE_RULES) expect(ids.has(rule.cause)).toBe(true);
  });
});
