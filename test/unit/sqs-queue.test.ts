import { SQSServiceException } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { refusalOf } from '../../lambdas/adapters/sqs-queue';

/*
 * Which SQS errors refuse this one message (the record is marked undeliverable, 422) and which are an outage
 * or a misconfiguration that every message meets (deferred: the reconciler sends them once it is fixed).
 * The errors are the SDK's own exception class with the codes and texts SQS answers.
 */

const sqsError = (name: string, message: string, fault: 'client' | 'server' = 'client') =>
  new SQSServiceException({ name, message, $fault: fault, $metadata: {} });

describe('refusalOf', () => {
  it('calls characters SQS will never take a refusal', () => {
    expect(refusalOf(sqsError('InvalidMessageContents', 'Invalid characters found.'))).toBe('InvalidMessageContents');
    expect(refusalOf(sqsError('AWS.SimpleQueueService.InvalidMessageContents', 'Invalid characters found.'))).toBe(
      'InvalidMessageContents',
    );
  });

  it("calls a message over the queue's size a refusal", () => {
    const tooLong = sqsError(
      'InvalidParameterValue',
      'One or more parameters are invalid. Reason: Message must be shorter than 1024 bytes.',
    );
    expect(refusalOf(tooLong)).toBe('InvalidParameterValue');
  });

  it('takes a parameter the queue cannot take at all (a FIFO send to a standard queue) for a misconfiguration, not a refusal', () => {
    const standardQueue = sqsError(
      'InvalidParameterValue',
      'The request include parameter that is not valid for this queue type. Reason: MessageGroupId',
    );
    expect(refusalOf(standardQueue)).toBeUndefined();
  });

  it('takes server faults, throttling and a missing queue for unavailability', () => {
    expect(refusalOf(sqsError('InternalError', 'We encountered an internal error.', 'server'))).toBeUndefined();
    expect(refusalOf(sqsError('ThrottlingException', 'Rate exceeded'))).toBeUndefined();
    expect(refusalOf(sqsError('QueueDoesNotExist', 'The specified queue does not exist.'))).toBeUndefined();
    expect(refusalOf(new Error('socket hang up'))).toBeUndefined();
  });
});
