import { describe, expectTypeOf, it } from 'vitest';
import type { CallbackHandlers, CallbackMessage } from '../../consumer/index';
import type { Payload } from '../../contract/catalog';

/* What an MIS developer's editor sees: each handler gets its own type's payload, typed. */

describe('consumer handler types', () => {
  it('gives each handler the payload of its own type', () => {
    type RemdHandler = NonNullable<CallbackHandlers['REMDStatus']>;
    expectTypeOf<Parameters<RemdHandler>[0]>().toEqualTypeOf<CallbackMessage<'REMDStatus'>>();
    expectTypeOf<CallbackMessage<'REMDStatus'>['payload']>().toEqualTypeOf<Payload<'REMDStatus'>>();
    expectTypeOf<Payload<'REMDStatus'>>().toHaveProperty('IdFedRequest');
    expectTypeOf<Payload<'CDAStatus'>>().toHaveProperty('IdMedDocumentMis');
    expectTypeOf<Payload<'MseResultData'>>().toHaveProperty('IdMSEMis');
  });

  it('does not accept a handler written for another type', () => {
    const handlers: CallbackHandlers = {
      // @ts-expect-error a CDAStatus message has no IdFedRequest: tsc fails if this ever compiles
      REMDStatus: async (message: CallbackMessage<'CDAStatus'>) => void message.payload.IdMedDocumentMis,
    };
    expectTypeOf(handlers).toMatchTypeOf<CallbackHandlers>();
    expectTypeOf<keyof CallbackHandlers>().toEqualTypeOf<
      'CDAStatus' | 'SEMDStatus' | 'REMDStatus' | 'MseResult' | 'MseResultData' | 'VimisResult'
    >();
  });
});
