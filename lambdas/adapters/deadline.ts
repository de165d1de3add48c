/*
 * The per-operation deadline of an SDK client: every `send` gets an AbortSignal that fires `overallMs` after
 * the call starts, across the SDK's retries and their back-off (the SDK stops retrying once it fires, and the
 * attempt in flight is torn down). Set once, where the client is built (aws.ts), so no call site can forget
 * it; a DocumentClient built on such a client (documentClient, dynamodb-store.ts) inherits it.
 */

type AnySend = (command: unknown, options?: unknown, callback?: unknown) => unknown;

const overallOf = new WeakMap<object, number>();

/** The client, its `send` bounded to `overallMs` per operation (an AbortSignal of the caller's own still applies). */
export function withOverallDeadline<C extends object>(client: C, overallMs: number): C {
  const target = client as unknown as { send: AnySend };
  const send = target.send.bind(client) as AnySend;
  target.send = (command, options, callback) => {
    // The callback forms (unused here) are passed through with the deadline too.
    if (typeof options === 'function') return send(command, bounded(undefined, overallMs), options);
    return send(command, bounded(options as { abortSignal?: AbortSignal } | undefined, overallMs), callback);
  };
  overallOf.set(client, overallMs);
  return client;
}

/** The overall deadline `withOverallDeadline` gave this client, if any. */
export const overallDeadlineOf = (client: object): number | undefined => overallOf.get(client);

function bounded(options: { abortSignal?: AbortSignal } | undefined, overallMs: number) {
  const timeout = AbortSignal.timeout(overallMs);
  return { ...options, abortSignal: options?.abortSignal ? AbortSignal.any([options.abortSignal, timeout]) : timeout };
}
