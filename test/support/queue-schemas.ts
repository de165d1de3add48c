import { readdirSync, readFileSync } from 'node:fs';
import Ajv2020, { type ErrorObject } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { ENVELOPE_VERSION } from '../../contract/envelope';
import { MESSAGE_TYPES, type MessageType } from '../../contract/catalog';
import { envelopeFileName } from '../../contract/schemas';

/*
 * The published queue contract (docs/schemas/*.json, as committed: what an MIS team downloads), compiled
 * by ajv's JSON Schema 2020-12 validator in strict mode with real format checks (uuid, date-time).
 */

export const SCHEMAS_DIR = new URL('../../docs/schemas/', import.meta.url);

export const publishedSchemas = (): Record<string, Record<string, unknown>> =>
  Object.fromEntries(
    readdirSync(SCHEMAS_DIR)
      .sort()
      .map((name) => [name, JSON.parse(readFileSync(new URL(name, SCHEMAS_DIR), 'utf8')) as Record<string, unknown>]),
  );

export function queueValidator() {
  const ajv = new Ajv2020({ strict: true, strictRequired: false, allErrors: true });
  addFormats(ajv);
  const schemas = publishedSchemas();
  const envelope = ajv.compile(schemas[envelopeFileName(ENVELOPE_VERSION)]!);
  const payloads = new Map(MESSAGE_TYPES.map((type) => [type, ajv.compile(schemas[`${type}.json`]!)]));
  const explain = (errors: ErrorObject[] | null | undefined) => ajv.errorsText(errors, { separator: '; ' });
  return {
    ajv,
    /** Errors of a queue message body against the envelope schema (payload included when inline), or '' when valid. */
    envelopeErrors: (body: unknown): string => (envelope(body) ? '' : explain(envelope.errors)),
    /** Errors of a payload (inline, or a claim-checked object's JSON) against its type's schema, or ''. */
    payloadErrors: (type: MessageType, body: unknown): string => {
      const validate = payloads.get(type)!;
      return validate(body) ? '' : explain(validate.errors);
    },
  };
}
