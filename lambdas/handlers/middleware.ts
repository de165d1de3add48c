import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';

/**
 * What every deployed function is wrapped in: the Lambda context on each log line, and the
 * invocation's metrics flushed as one EMF record when it ends.
 */
export function asLambda<E, R>(handler: (event: E) => Promise<R>, observability: { logger: Logger; metrics?: Metrics }) {
  const wrapped = middy<E, R, Error, Context>(handler).use(injectLambdaContext(observability.logger));
  // A function that counts nothing (the document API) has no metrics to flush, and Powertools would warn on each call.
  return observability.metrics ? wrapped.use(logMetrics(observability.metrics)) : wrapped;
}
