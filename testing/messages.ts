import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { MESSAGE_TYPES, type MessageType } from '../contract/catalog';

/** The spec's examples (examples/*.json), made valid JSON with distinct MessageIds. */
export const EXAMPLES: Readonly<Record<MessageType, Record<string, unknown>>> = Object.fromEntries(
  MESSAGE_TYPES.map((type) => [
    type,
    JSON.parse(readFileSync(new URL(`../examples/${type}.json`, import.meta.url), 'utf8')) as Record<string, unknown>,
  ]),
) as Record<MessageType, Record<string, unknown>>;

/** A valid message of the type with a fresh MessageId (and fresh document key when asked). */
export function freshMessage(type: MessageType, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...structuredClone(EXAMPLES[type]), MessageId: randomUUID(), ...overrides };
}
