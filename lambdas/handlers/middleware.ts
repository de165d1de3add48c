import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';

/**
 * What every deployed function is wrapped in: the Lambda context on each log line, and the
 * invocation's metrics flushed as one EMF record when it ends.
 */
export function asLambda<E, R>(handler: (event: E) => Promise<R>, observability: { logger: Logger; metrics?: Metrics }) {
  const wrapped = middy<E, R, Error, Context>(handler).use(injectLambdaContext(observability.logger));
  // A function that counts nothing (the document API) has no metrics to flush, and Powertools would warn on each call.
  return observability.metrics ? wrapped.use(flushMetrics(observability.metrics)) : wrapped;
}

/**
 * Powertools' `logMetrics`, less its warning on an empty flush: the sweep runs every minute at every site
 * and, on a quiet site, has nothing to count (no metric is written as a zero), so that warning would be the
 * only line it logs, 43,200 times a month per site.
 */
function flushMetrics(metrics: Metrics): middy.MiddlewareObj {
  const flush = async () => {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  };
  return { after: flush, onError: flush };
}
