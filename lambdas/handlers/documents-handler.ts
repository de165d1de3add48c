import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { DOCUMENT_LIMITS, isDocumentId, isStage, parseDuration, STAGE_STATES } from '../../contract/documents';
import type { DocumentStore } from '../documents/ports';
import { earliestSince, expectStage, getDocument, listDocuments, listSilent, sinceTime, waitingLadder } from '../documents/service';
import type { Clock } from '../ingest/ports';

export interface DocumentsDeps {
  readonly documents: DocumentStore;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The site's `retentionDays`: nothing older is kept, so `since` may not reach further back. */
  readonly retentionDays: number;
}

/*
 * The document API for MIS written in any language (deployed behind IAM auth, SigV4):
 *   GET /documents/{id}                          → the document, or 404
 *   GET /documents?stage=&state=&since=          → documents written since (default 1d), filtered
 *   GET /documents?silent=true                   → [{documentId, stage, expectedBy}] past due
 *   GET /documents?ladder=true                   → the age ladder of documents awaiting a final answer (contract/ladder.ts)
 *   PUT /documents/{id}/expectations/{stage}     {"within":"24h"} or {"expectedBy":"<ISO>"} → the document
 * Errors are one JSON line: {"error": "..."} with 400/404/405.
 */
export function createDocumentsHandler(deps: DocumentsDeps): (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult> {
  return async (event) => {
    const segments = pathSegments(event.path ?? '');
    if (!segments) return error(400, 'the path is not valid percent-encoding of UTF-8: encode the document id with encodeURIComponent');
    const at = segments.indexOf('documents');
    const [id, sub, stage] = at >= 0 ? segments.slice(at + 1) : [];
    const query = event.queryStringParameters ?? {};
    const now = deps.clock.now();
    // Such an id is never stored (no key takes it), and asking the table would fail on every retry.
    if (id !== undefined && !isDocumentId(id)) {
      return error(event.httpMethod === 'GET' ? 404 : 400, `a document id is at most ${DOCUMENT_LIMITS.documentIdBytes} bytes of UTF-8`);
    }
    try {
      if (event.httpMethod === 'GET' && id === undefined) {
        if (query.silent === 'true') return json(200, await listSilent(deps.documents, now.toISOString()));
        if (query.ladder === 'true') return json(200, await waitingLadder(deps.documents, now, deps.retentionDays));
        if (query.stage !== undefined && !isStage(query.stage))
          return error(400, `stage must be one of ${Object.keys(STAGE_STATES).join(', ')}`);
        if (query.state !== undefined && !query.stage) return error(400, 'state needs a stage');
        if (query.stage && query.state && !(STAGE_STATES[query.stage] as readonly string[]).includes(query.state)) {
          return error(400, `state of ${query.stage} must be one of ${STAGE_STATES[query.stage].join(', ')}`);
        }
        const since = sinceTime(query.since, now);
        if (!since) return error(400, 'since must be a duration (30s, 15m, 24h, 2d) or an ISO time');
        // Each day back is a query per shard: an unbounded `since` would walk decades of empty days.
        const earliest = earliestSince(now, deps.retentionDays);
        if (Date.parse(since) < Date.parse(earliest)) {
          return error(400, `since reaches past the site's retention of ${deps.retentionDays} days: the earliest allowed is ${earliest}`);
        }
        return json(200, await listDocuments(deps.documents, { since, stage: query.stage, state: query.state }));
      }
      if (event.httpMethod === 'GET' && id !== undefined && sub === undefined) {
        const view = await getDocument(deps.documents, id);
        return view ? json(200, view) : error(404, `no document ${JSON.stringify(id)}: nothing received about it, and no expectation`);
      }
      if (event.httpMethod === 'PUT' && id !== undefined && sub === 'expectations' && stage !== undefined) {
        if (!isStage(stage)) return error(400, `stage must be one of ${Object.keys(STAGE_STATES).join(', ')}`);
        const body = parseBody(event);
        const within = typeof body?.within === 'string' ? parseDuration(body.within) : undefined;
        const expectedBy =
          within !== undefined
            ? new Date(now.getTime() + within).toISOString()
            : typeof body?.expectedBy === 'string' && !Number.isNaN(Date.parse(body.expectedBy))
              ? new Date(body.expectedBy).toISOString()
              : undefined;
        if (!expectedBy) return error(400, 'body must be {"within": "24h"} (30s, 15m, 24h, 2d) or {"expectedBy": "<ISO time>"}');
        return json(200, await expectStage(deps.documents, id, stage, expectedBy, now.toISOString(), deps.retentionDays));
      }
      return error(
        event.httpMethod === 'GET' || event.httpMethod === 'PUT' ? 404 : 405,
        `no such document route: ${event.httpMethod} ${event.path}`,
      );
    } catch (failure) {
      deps.logger.error('documents request failed', { error: failure as Error });
      return error(503, 'document store unavailable: retry');
    }
  };
}

/** The path's segments, percent-decoded; undefined when one is not valid percent-encoded UTF-8 (`%E0%A4%A`). */
function pathSegments(path: string): string[] | undefined {
  try {
    return path.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return undefined;
  }
}

function parseBody(event: APIGatewayProxyEvent): Record<string, unknown> | undefined {
  try {
    const text = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : (event.body ?? '');
    const value = JSON.parse(text) as unknown;
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const json = (statusCode: number, value: unknown): APIGatewayProxyResult => ({
  statusCode,
  headers: { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' },
  body: JSON.stringify(value),
});
const error = (statusCode: number, message: string) => json(statusCode, { error: message });
