import type { LogEntry, logCreator } from 'kafkajs';
import type { MqLogger } from '../core/logger.js';
import { DeadLetterFailedError } from './errors/dead-letter-failed.error.js';
import { RetryInterruptedError } from './errors/retry-interrupted.error.js';
import type { KafkaLogLevel } from './kafka-options.js';

// kafkajs's numeric levels (its `logLevel` enum), kept local so this file needs only its types.
const KAFKAJS_LEVEL = { nothing: 0, error: 1, warn: 2, info: 4, debug: 5 } as const;

export function toKafkajsLogLevel(level: KafkaLogLevel): number {
  return KAFKAJS_LEVEL[level];
}

/** Keys of kafkajs log fields that may carry credentials or key material: dropped, never forwarded. */
const SECRET_KEY =
  /pass(word)?|secret|token|sasl|ssl|credential|authoriz|privatekey|^key$|^cert$|^ca$/i;

/**
 * Messages kafkajs logs as warnings about choices this library makes on purpose; forwarded as debug
 * so they do not alarm on every producer created.
 */
const EXPECTED_WARNINGS = ['Limiting retries for the idempotent producer'];

/**
 * What a `subscribe()` handler throws to kafkajs on purpose (so the record stays uncommitted) after
 * logging it itself: kafkajs's own "Error when calling eachMessage" line about it is debug.
 */
function reportedByLibrary(error: unknown): boolean {
  return error instanceof RetryInterruptedError || error instanceof DeadLetterFailedError;
}

/**
 * Routes kafkajs's logs into the library logger: level mapped one to one, the kafkajs namespace
 * kept as a field, fields with secret-looking names dropped and known secret values masked.
 */
export function kafkajsLogCreator(logger: MqLogger, secrets: readonly string[]): logCreator {
  const scrub = makeScrubber(secrets);
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const { message, timestamp: _timestamp, ...extra } = log;
      const fields: Record<string, unknown> = { kafkajs: namespace };
      for (const [key, value] of Object.entries(extra)) {
        if (SECRET_KEY.test(key)) continue;
        fields[key] = typeof value === 'string' ? scrub(value) : value;
      }
      const text = `kafkajs: ${scrub(String(message))}`;
      // kafkajs logs every retried connect or request at ERROR (with retryCount), several per
      // second while a broker is down. The library reports those failures itself, once and then
      // every 10th attempt (shared producer, consumers' restart policy, typed errors), so these are
      // debug: an outage reads as one clear line, not a flood.
      if (level === KAFKAJS_LEVEL.error)
        if (
          'retryCount' in extra ||
          namespace === 'Connection' ||
          reportedByLibrary(extra['error'])
        )
          logger.debug(text, fields);
        else logger.error(text, fields);
      else if (level === KAFKAJS_LEVEL.warn) {
        if (EXPECTED_WARNINGS.some((w) => text.includes(w))) logger.debug(text, fields);
        else logger.warn(text, fields);
      } else if (level === KAFKAJS_LEVEL.info) logger.info(text, fields);
      else logger.debug(text, fields);
    };
}

/** Replaces every occurrence of a known secret with `***`. */
export function makeScrubber(secrets: readonly string[]): (text: string) => string {
  const list = secrets.filter((s) => s.length > 0);
  if (list.length === 0) return (text) => text;
  return (text) => {
    let out = text;
    for (const s of list) out = out.split(s).join('***');
    return out;
  };
}
