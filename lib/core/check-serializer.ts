import { InvalidPoolOptionsError } from './errors/invalid-pool-options.error.js';
import { JSON_SERIALIZER } from './json-serializer.js';
import type { MessageSerializer } from './message-serializer.js';
import { optionKey, type OptionBag } from './option-checks.js';

/** `bag.serializer`: an object with `serialize` and `deserialize` functions, or JSON_SERIALIZER when absent. */
export function checkSerializer(bag: OptionBag, parent: string): MessageSerializer {
  const value = bag['serializer'];
  if (value === undefined) return JSON_SERIALIZER;
  const candidate = value as Partial<MessageSerializer> | null;
  if (
    typeof candidate !== 'object' ||
    candidate === null ||
    typeof candidate.serialize !== 'function' ||
    typeof candidate.deserialize !== 'function'
  ) {
    const key = optionKey(parent, 'serializer');
    throw new InvalidPoolOptionsError(
      key,
      'must be an object with serialize(payload) and deserialize(content, contentType) functions',
      `pass a MessageSerializer (see JSON_SERIALIZER), or leave "${key}" out for JSON`,
    );
  }
  return candidate as MessageSerializer;
}
