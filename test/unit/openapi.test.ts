import { readFileSync } from 'node:fs';
import { validate } from '@readme/openapi-parser';
import Ajv2020 from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { MESSAGE_TYPES } from '../../contract/catalog';
import { buildOpenApi } from '../../contract/openapi';
import { EXAMPLES, freshMessage } from '../../testing/messages';
import { REQUIRED } from '../support/spec-fields';

type Doc = {
  paths: Record<
    string,
    {
      post: {
        requestBody: { content: Record<string, { schema: { $ref: string } }> };
        responses: Record<string, { content: Record<string, { schema: { $ref: string } }> }>;
      };
    }
  >;
  components: { schemas: Record<string, Record<string, unknown>> };
};

describe('openapi', () => {
  const built = buildOpenApi() as unknown as Doc;

  it('is a valid OpenAPI 3.1 document', async () => {
    const result = await validate(structuredClone(built) as never);
    expect(result.valid, JSON.stringify(result)).toBe(true);
  });

  it('is committed as generated (run `npm run openapi` after changing the catalog)', () => {
    const committed = JSON.parse(readFileSync(new URL('../../docs/openapi.json', import.meta.url), 'utf8'));
    expect(committed).toEqual(built);
  });

  it('lists the six routes, each with its message schema and the ack for every answer, and the document API', () => {
    expect(Object.keys(built.paths).sort()).toEqual(
      [
        ...MESSAGE_TYPES.map((t) => `/${t}`),
        '/documents',
        '/documents/{documentId}',
        '/documents/{documentId}/expectations/{stage}',
      ].sort(),
    );
    for (const type of MESSAGE_TYPES) {
      const post = built.paths[`/${type}`]!.post;
      expect(post.requestBody.content['application/json']!.schema.$ref).toBe(`#/components/schemas/${type}`);
      expect(Object.keys(post.responses).sort()).toEqual(['200', '400', '409', '413', '422', '500', '503']);
      for (const response of Object.values(post.responses))
        expect(response.content['application/json']!.schema.$ref).toBe('#/components/schemas/Ack');
    }
    expect(built.components.schemas.Ack).toMatchObject({ required: ['MessageId', 'Message', 'Status'] });
  });

  describe('message schemas agree with the endpoint', () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    ajv.addFormat('uuid', true);
    const check = (type: (typeof MESSAGE_TYPES)[number], body: unknown) => ajv.validate(built.components.schemas[type]!, body);

    it.each(MESSAGE_TYPES)('accepts the spec example of %s and refuses it without a required field', (type) => {
      expect(check(type, EXAMPLES[type])).toBe(true);
      for (const field of REQUIRED[type]) {
        const body = freshMessage(type);
        delete body[field];
        expect(check(type, body), `${type} without ${field}`).toBe(false);
      }
    });

    it('types integers as integers and accepts either VimisResult spelling', () => {
      expect(check('SEMDStatus', freshMessage('SEMDStatus', { IdMedDocument: 1.5 }))).toBe(false);
      const { IdSource, ...rest } = freshMessage('VimisResult');
      expect(check('VimisResult', { ...rest, IdSourse: IdSource })).toBe(true);
      expect(check('VimisResult', rest)).toBe(false);
    });
  });
});
