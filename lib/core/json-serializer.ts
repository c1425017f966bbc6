import { PayloadDeserializationError } from './errors/payload-deserialization.error.js';
import type { MessageSerializer } from './message-serializer.js';

const JSON_TYPE = 'application/json';

/** `application/json` and structured-syntax types such as `application/cloudevents+json`. */
function isJsonType(contentType: string): boolean {
  const mediaType = contentType.split(';', 1)[0]!.trim().toLowerCase();
  return mediaType === JSON_TYPE || mediaType.endsWith('+json');
}

/**
 * The default serializer: JSON out (a `Buffer` passes through as `application/octet-stream`);
 * in, JSON types are parsed strictly, `text/*` becomes a string, unknown types stay a `Buffer`, and
 * a message without a content type is parsed as JSON when it is JSON — other clients often omit
 * the property — and left a `Buffer` when it is not.
 */
export const JSON_SERIALIZER: MessageSerializer = {
  serialize(payload) {
    if (Buffer.isBuffer(payload))
      return { content: payload, contentType: 'application/octet-stream' };
    const text = JSON.stringify(payload);
    // JSON.stringify(undefined) is undefined: send JSON null rather than an empty body nobody can parse.
    return { content: Buffer.from(text ?? 'null'), contentType: JSON_TYPE };
  },
  deserialize(content, contentType) {
    if (contentType === undefined || contentType === '') {
      try {
        return JSON.parse(content.toString('utf8')) as unknown;
      } catch {
        return content;
      }
    }
    if (isJsonType(contentType)) {
      try {
        return JSON.parse(content.toString('utf8')) as unknown;
      } catch (error) {
        throw new PayloadDeserializationError(contentType, error);
      }
    }
    if (contentType.toLowerCase().startsWith('text/')) return content.toString('utf8');
    return content;
  },
};
