import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { DocumentFilter, DocumentView, SilentDocument, Stage } from '../contract/documents';
import { TOOL_DEADLINE } from '../contract/deadlines';
import type { Ladder } from '../contract/ladder';

/*
 * The document API for an MIS in Node.js (the CLI uses it too): one document's state, lists by stage
 * state, expectations, and the documents N3 never answered. Against a deployed site the requests are
 * signed with the caller's AWS credentials (SigV4, IAM auth: attach the stack's consumer policy);
 * against `npm start` they are plain HTTP.
 */

export type { DocumentFilter, DocumentView, Ladder, SilentDocument, Stage };

export interface DocumentsClientOptions {
  /** Where `/documents` lives: the stack output `DocumentsApiUrl`, or `npm start`'s base URL. */
  readonly baseUrl: string;
  /** Sign with AWS credentials (default: when the host is an AWS endpoint). */
  readonly sign?: boolean;
  /** Region for signing (default: from the execute-api host name, else AWS_REGION). */
  readonly region?: string;
  readonly fetch?: typeof fetch;
}

export interface DocumentsClient {
  /** The document, or undefined when nothing was received about it and nothing is expected. */
  getDocument(documentId: string): Promise<DocumentView | undefined>;
  listDocuments(filter?: DocumentFilter): Promise<DocumentView[]>;
  /** The MIS expects a final answer for `stage` within `within` (`30s`, `15m`, `24h`, `2d`). */
  expect(documentId: string, stage: Stage, within: string): Promise<DocumentView>;
  listSilent(): Promise<SilentDocument[]>;
  /** Documents awaiting a final answer, counted by how long they have waited (contract/ladder.ts). */
  ladder(): Promise<Ladder>;
}

/** The API answered with an error: `status` and its one-line reason. */
export class DocumentsApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'DocumentsApiError';
  }
}

export function createDocumentsClient(options: DocumentsClientOptions): DocumentsClient {
  const base = new URL(options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`);
  const sign = options.sign ?? base.hostname.endsWith('.amazonaws.com');
  const region =
    options.region ?? /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$/.exec(base.hostname)?.[1] ?? process.env.AWS_REGION ?? 'us-east-1';
  const doFetch = options.fetch ?? fetch;
  const signer = sign
    ? new SignatureV4({ service: 'execute-api', region, credentials: defaultProvider(), sha256: Hash.bind(null, 'sha256') })
    : undefined;

  async function call<T>(method: 'GET' | 'PUT', path: string, query: Record<string, string> = {}, body?: unknown): Promise<T | undefined> {
    const url = new URL(path, base);
    for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
    const text = body === undefined ? undefined : JSON.stringify(body);
    let headers: Record<string, string> = {
      host: url.host,
      accept: 'application/json',
      ...(text ? { 'content-type': 'application/json' } : {}),
    };
    if (signer) {
      const signed = await signer.sign(
        new HttpRequest({
          method,
          protocol: url.protocol,
          hostname: url.hostname,
          port: url.port ? Number(url.port) : undefined,
          path: url.pathname,
          query: Object.fromEntries(url.searchParams),
          headers,
          body: text,
        }),
      );
      headers = signed.headers as Record<string, string>;
    }
    // A hung API ends (contract/deadlines.ts, TOOL_DEADLINE).
    const response = await doFetch(url, { method, headers, body: text, signal: AbortSignal.timeout(TOOL_DEADLINE.attemptMs) });
    if (response.status === 404 && method === 'GET' && path !== 'documents') return undefined;
    const answer = (await response.json().catch(() => undefined)) as (T & { error?: string }) | undefined;
    if (!response.ok) throw new DocumentsApiError(response.status, answer?.error ?? `HTTP ${response.status} from ${url.origin}`);
    return answer;
  }

  return {
    getDocument: (documentId) => call<DocumentView>('GET', `documents/${encodeURIComponent(documentId)}`),
    listDocuments: async (filter = {}) =>
      (await call<DocumentView[]>(
        'GET',
        'documents',
        Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== undefined)) as Record<string, string>,
      )) ?? [],
    expect: async (documentId, stage, within) =>
      (await call<DocumentView>('PUT', `documents/${encodeURIComponent(documentId)}/expectations/${stage}`, {}, { within }))!,
    listSilent: async () => (await call<SilentDocument[]>('GET', 'documents', { silent: 'true' })) ?? [],
    ladder: async () => (await call<Ladder>('GET', 'documents', { ladder: 'true' }))!,
  };
}
