import { createRequire } from 'node:module';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { AmqplibInstrumentation } from '@opentelemetry/instrumentation-amqplib';
import { KafkaJsInstrumentation } from '@opentelemetry/instrumentation-kafkajs';

/**
 * Imported FIRST by the instrumented test file: the instrumentations hook `require()`, so they must
 * be registered before amqplib/kafkajs load. amqplib is patched even through the library's ESM
 * import (its internals are required); kafkajs is patched on its first CommonJS `require`, done here.
 * Each test file runs in its own worker, so the other files see unpatched clients.
 */
export const instrumentations = registerInstrumentations({
  instrumentations: [new AmqplibInstrumentation(), new KafkaJsInstrumentation()],
});

const require = createRequire(import.meta.url);
require('amqplib');
require('kafkajs');
