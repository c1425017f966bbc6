import kafkajs from 'kafkajs';
import {
  activeContext,
  ATTR,
  type Attributes,
  type Context,
  contextWithSpan,
  extractContext,
  hasTraceparent,
  type HeaderCarrier,
  injectContext,
  isInstrumented,
  type Link,
  recordFailure,
  remoteSpanContext,
  runInContext,
  runWithSpan,
  startMessagingSpan,
  type Tracer,
} from '../telemetry/index.js';
import type {
  KafkaEachBatchPayload,
  KafkaEachMessagePayload,
  KafkaMessage,
  KafkaProducerBatch,
  KafkaProducerRecord,
  KafkaRecordMetadata,
} from './kafka-types.js';
import { KAFKAJS_DRIVER_NAME } from './kafkajs-driver.js';

/**
 * Kafka spans, created only when an SDK is registered (callers check `activeTracer()` first).
 *
 * Producer: one span per `send()`/`sendBatch()` call, "send <topic>", whose context is injected into
 * each record's headers (into a copy: the caller's records are never mutated; a record that already
 * has `traceparent` keeps it). When `@opentelemetry/instrumentation-kafkajs` patched kafkajs, it
 * already creates one PRODUCER span per record and injects the headers, so this span is INTERNAL
 * (their parent) and injects nothing.
 *
 * Consumer: `eachMessage` runs in a CONSUMER span "process <topic>", a child of the context the
 * producer injected; `eachBatch` runs in one span linked to each record's producer context (a batch
 * has many parents). Under the instrumentation these are INTERNAL children of its spans.
 */

/** Whether kafkajs is patched by `@opentelemetry/instrumentation-kafkajs` (only for the kafkajs driver). */
export function kafkajsInstrumented(driverName: string): boolean {
  return driverName === KAFKAJS_DRIVER_NAME && isInstrumented(kafkajs.Kafka.prototype.producer);
}

export interface KafkaSendTraceOptions {
  instrumented: boolean;
  /** Set for sends inside `withTransaction`. */
  transactionalId?: string;
}

export function traceKafkaSend(
  tracer: Tracer,
  o: KafkaSendTraceOptions,
  record: KafkaProducerRecord,
  send: (record: KafkaProducerRecord) => Promise<KafkaRecordMetadata[]>,
): Promise<KafkaRecordMetadata[]> {
  const single = record.messages.length === 1 ? record.messages[0] : undefined;
  const attributes = sendAttributes(record.topic, record.messages.length, o);
  if (single !== undefined) {
    attributes[ATTR.bodySize] = bodySize(single);
    if (single.partition !== undefined) attributes[ATTR.partition] = String(single.partition);
    if (typeof single.key === 'string') attributes[ATTR.kafkaKey] = single.key;
  }
  return traced(tracer, `send ${record.topic}`, attributes, o, record, send, (ctx) => ({
    ...record,
    messages: withHeaders(record.messages, ctx),
  }));
}

export function traceKafkaSendBatch(
  tracer: Tracer,
  o: KafkaSendTraceOptions,
  batch: KafkaProducerBatch,
  send: (batch: KafkaProducerBatch) => Promise<KafkaRecordMetadata[]>,
): Promise<KafkaRecordMetadata[]> {
  const topics = batch.topicMessages.map((t) => t.topic);
  const count = batch.topicMessages.reduce((n, t) => n + t.messages.length, 0);
  const one = topics.length === 1 ? topics[0] : undefined;
  const attributes = sendAttributes(one, count, o);
  const name = one === undefined ? 'send' : `send ${one}`;
  return traced(tracer, name, attributes, o, batch, send, (ctx) => ({
    ...batch,
    topicMessages: batch.topicMessages.map((t) => ({
      ...t,
      messages: withHeaders(t.messages, ctx),
    })),
  }));
}

function traced<R>(
  tracer: Tracer,
  name: string,
  attributes: Attributes,
  o: KafkaSendTraceOptions,
  original: R,
  send: (input: R) => Promise<KafkaRecordMetadata[]>,
  inject: (ctx: Context) => R,
): Promise<KafkaRecordMetadata[]> {
  const parent = activeContext();
  const span = startMessagingSpan(tracer, {
    name,
    kind: o.instrumented ? 'internal' : 'producer',
    attributes,
    parent,
  });
  const ctx = contextWithSpan(parent, span);
  let work: Promise<KafkaRecordMetadata[]>;
  try {
    // Under the instrumentation, it injects (per record); injecting here too would only be overwritten.
    const input = o.instrumented ? original : inject(ctx);
    work = runInContext(ctx, () => send(input));
  } catch (error) {
    work = Promise.reject(error);
  }
  return work.then(
    (metadata) => {
      const first = metadata.length === 1 ? metadata[0] : undefined;
      if (first !== undefined) {
        span.setAttribute(ATTR.partition, String(first.partition));
        const offset = first.baseOffset ?? first.offset;
        if (offset !== undefined) span.setAttribute(ATTR.kafkaOffset, Number(offset));
      }
      span.end();
      return metadata;
    },
    (error: unknown) => {
      recordFailure(span, error);
      span.end();
      throw error;
    },
  );
}

function sendAttributes(
  topic: string | undefined,
  count: number,
  o: KafkaSendTraceOptions,
): Attributes {
  const attributes: Attributes = {
    [ATTR.system]: 'kafka',
    [ATTR.operationType]: 'send',
    [ATTR.operationName]: 'send',
  };
  if (topic !== undefined) attributes[ATTR.destination] = topic;
  if (count !== 1) attributes[ATTR.batchCount] = count;
  if (o.transactionalId !== undefined) attributes[ATTR.transactionalId] = o.transactionalId;
  return attributes;
}

function withHeaders(messages: KafkaMessage[], ctx: Context): KafkaMessage[] {
  return messages.map((m) => {
    if (hasTraceparent(m.headers as HeaderCarrier | undefined)) return m;
    const headers: HeaderCarrier = { ...m.headers };
    injectContext(ctx, headers);
    return { ...m, headers: headers as KafkaMessage['headers'] };
  });
}

function bodySize(m: KafkaMessage): number {
  const v = m.value;
  if (v === null || v === undefined) return 0;
  return typeof v === 'string' ? Buffer.byteLength(v) : v.length;
}

/** Per consumer: the offset that failed last on each partition, to count retries of one record. */
export class ConsumeTraceState {
  private readonly failures = new Map<string, { offset: string; count: number }>();

  constructor(
    readonly groupId: string,
    readonly instrumented: boolean,
  ) {}

  retriesOf(topic: string, partition: number, offset: string): number {
    const f = this.failures.get(`${topic}:${partition}`);
    return f !== undefined && f.offset === offset ? f.count : 0;
  }

  failed(topic: string, partition: number, offset: string, retries: number): void {
    this.failures.set(`${topic}:${partition}`, { offset, count: retries + 1 });
  }

  succeeded(topic: string, partition: number): void {
    if (this.failures.size > 0) this.failures.delete(`${topic}:${partition}`);
  }
}

export async function traceEachMessage(
  tracer: Tracer,
  state: ConsumeTraceState,
  payload: KafkaEachMessagePayload,
  handler: (payload: KafkaEachMessagePayload) => Promise<void>,
): Promise<void> {
  const { topic, partition, message } = payload;
  const parent = state.instrumented
    ? activeContext()
    : extractContext(message.headers as HeaderCarrier | undefined);
  const retries = state.retriesOf(topic, partition, message.offset);
  const attributes: Attributes = {
    ...consumeAttributes(topic, partition, state.groupId),
    [ATTR.kafkaOffset]: Number(message.offset),
    [ATTR.bodySize]: message.value?.length ?? 0,
  };
  if (retries > 0) attributes[ATTR.retries] = retries;
  const span = startMessagingSpan(tracer, {
    name: `process ${topic}`,
    kind: state.instrumented ? 'internal' : 'consumer',
    attributes,
    parent,
  });
  try {
    await runWithSpan(parent, span, () => handler(payload));
    state.succeeded(topic, partition);
    span.setAttribute(ATTR.settlement, 'processed');
  } catch (error) {
    // Not committed: the client retries the record (and crashes the consumer when retries run out).
    state.failed(topic, partition, message.offset, retries);
    span.setAttribute(ATTR.settlement, 'retry');
    recordFailure(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/** Links per batch span are capped: a 10 000-record batch must not make a 10 000-link span. */
const MAX_BATCH_LINKS = 128;

export async function traceEachBatch(
  tracer: Tracer,
  state: ConsumeTraceState,
  payload: KafkaEachBatchPayload,
  handler: (payload: KafkaEachBatchPayload) => Promise<void>,
): Promise<void> {
  const { batch } = payload;
  const links: Link[] = [];
  if (!state.instrumented) {
    for (const m of batch.messages) {
      if (links.length >= MAX_BATCH_LINKS) break;
      const sc = remoteSpanContext(extractContext(m.headers as HeaderCarrier | undefined));
      if (sc !== undefined) links.push({ context: sc });
    }
  }
  const parent = activeContext();
  const span = startMessagingSpan(tracer, {
    name: `process ${batch.topic}`,
    kind: state.instrumented ? 'internal' : 'consumer',
    attributes: {
      ...consumeAttributes(batch.topic, batch.partition, state.groupId),
      [ATTR.batchCount]: batch.messages.length,
    },
    parent,
    links,
  });
  try {
    await runWithSpan(parent, span, () => handler(payload));
    span.setAttribute(ATTR.settlement, 'processed');
  } catch (error) {
    span.setAttribute(ATTR.settlement, 'retry');
    recordFailure(span, error);
    throw error;
  } finally {
    span.end();
  }
}

function consumeAttributes(topic: string, partition: number, groupId: string): Attributes {
  return {
    [ATTR.system]: 'kafka',
    [ATTR.destination]: topic,
    [ATTR.operationType]: 'process',
    [ATTR.operationName]: 'process',
    [ATTR.consumerGroup]: groupId,
    [ATTR.partition]: String(partition),
  };
}
