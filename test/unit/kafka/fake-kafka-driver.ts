import type {
  DriverAdmin,
  DriverConsumer,
  DriverConsumerConfig,
  DriverConsumerListeners,
  DriverConsumerRunConfig,
  DriverProducer,
  DriverProducerConfig,
  DriverTransaction,
  KafkaClientConfig,
  KafkaClusterDescription,
  KafkaDriver,
  KafkaDriverFactory,
  KafkaErrorKind,
  KafkaEachMessagePayload,
  KafkaProducerBatch,
  KafkaProducerRecord,
  KafkaRecordMetadata,
} from '../../../lib/kafka/index.js';

/** An error the fake driver classifies as `kind`. */
export function kindError(kind: KafkaErrorKind, message = `fake ${kind} error`): Error {
  return Object.assign(new Error(message), { kind });
}

export function metadata(topic: string): KafkaRecordMetadata[] {
  return [{ topicName: topic, partition: 0, errorCode: 0, baseOffset: '0' }];
}

export class FakeTransaction implements DriverTransaction {
  readonly sent: KafkaProducerRecord[] = [];
  state: 'open' | 'committed' | 'aborted' = 'open';
  constructor(private readonly producer: FakeProducer) {}
  async send(record: KafkaProducerRecord): Promise<KafkaRecordMetadata[]> {
    await this.producer.kafka.txSendImpl(record, this.producer);
    this.sent.push(record);
    return metadata(record.topic);
  }
  async sendBatch(batch: KafkaProducerBatch): Promise<KafkaRecordMetadata[]> {
    return batch.topicMessages.flatMap((t) => metadata(t.topic));
  }
  async sendOffsets(): Promise<void> {}
  async commit(): Promise<void> {
    await this.producer.kafka.commitImpl(this, this.producer);
    this.state = 'committed';
    this.producer.activeTx = undefined;
  }
  async abort(): Promise<void> {
    await this.producer.kafka.abortImpl(this, this.producer);
    this.state = 'aborted';
    this.producer.activeTx = undefined;
  }
  isActive(): boolean {
    return this.state === 'open';
  }
}

export class FakeProducer implements DriverProducer {
  connected = false;
  disconnected = false;
  readonly sends: KafkaProducerRecord[] = [];
  readonly transactions: FakeTransaction[] = [];
  activeTx: FakeTransaction | undefined;
  constructor(
    readonly kafka: FakeKafka,
    readonly config: DriverProducerConfig,
  ) {}
  async connect(): Promise<void> {
    await this.kafka.connectImpl(this);
    this.connected = true;
  }
  async disconnect(): Promise<void> {
    this.disconnected = true;
  }
  send(record: KafkaProducerRecord): Promise<KafkaRecordMetadata[]> {
    this.sends.push(record);
    return this.kafka.sendImpl(record, this);
  }
  async sendBatch(batch: KafkaProducerBatch): Promise<KafkaRecordMetadata[]> {
    return batch.topicMessages.flatMap((t) => metadata(t.topic));
  }
  async beginTransaction(): Promise<DriverTransaction> {
    if (this.activeTx) throw new Error('FAKE: two open transactions on one producer');
    const tx = new FakeTransaction(this);
    this.transactions.push(tx);
    this.activeTx = tx;
    return tx;
  }
}

export class FakeConsumer implements DriverConsumer {
  run_: DriverConsumerRunConfig | undefined;
  connected = false;
  disconnected = false;
  private inFlight: Promise<void>[] = [];
  constructor(
    readonly kafka: FakeKafka,
    readonly config: DriverConsumerConfig,
    readonly listeners: DriverConsumerListeners,
  ) {}
  async connect(): Promise<void> {
    await this.kafka.consumerConnectImpl(this);
    this.connected = true;
  }
  async subscribe(): Promise<void> {}
  async run(config: DriverConsumerRunConfig): Promise<void> {
    this.run_ = config;
    if (this.kafka.autoJoin) this.join();
  }
  join(): void {
    this.listeners.onGroupJoin({ memberId: 'm1', isLeader: true, assignment: { t: [0] } });
  }
  /** Delivers one message to eachMessage; resolves/rejects with the handler. */
  deliver(value: string): Promise<void> {
    const payload = {
      topic: 't',
      partition: 0,
      message: { key: null, value: Buffer.from(value), timestamp: '0', attributes: 0, offset: '0' },
      heartbeat: async () => undefined,
      pause: () => () => undefined,
    } satisfies KafkaEachMessagePayload;
    const handled = this.run_!.eachMessage!(payload);
    this.inFlight.push(handled.catch(() => undefined));
    return handled;
  }
  crash(error: Error): void {
    this.disconnected = true;
    this.listeners.onCrash(error);
  }
  async disconnect(): Promise<void> {
    // Graceful, like kafkajs: wait for handlers in flight.
    await Promise.all(this.inFlight);
    this.disconnected = true;
  }
}

export class FakeAdmin implements DriverAdmin {
  connects = 0;
  describes = 0;
  constructor(readonly kafka: FakeKafka) {}
  async connect(): Promise<void> {
    this.connects++;
  }
  async disconnect(): Promise<void> {}
  describeCluster(): Promise<KafkaClusterDescription> {
    this.describes++;
    return this.kafka.describeImpl();
  }
}

/** A scriptable in-memory Kafka client behind the driver interface. */
export class FakeKafka {
  readonly producers: FakeProducer[] = [];
  readonly consumers: FakeConsumer[] = [];
  readonly admins: FakeAdmin[] = [];
  config: KafkaClientConfig | undefined;
  autoJoin = true;
  connectImpl: (p: FakeProducer) => Promise<void> = async () => undefined;
  consumerConnectImpl: (c: FakeConsumer) => Promise<void> = async () => undefined;
  sendImpl: (record: KafkaProducerRecord, p: FakeProducer) => Promise<KafkaRecordMetadata[]> =
    async (r) => metadata(r.topic);
  txSendImpl: (record: KafkaProducerRecord, p: FakeProducer) => Promise<void> = async () =>
    undefined;
  commitImpl: (tx: FakeTransaction, p: FakeProducer) => Promise<void> = async () => undefined;
  abortImpl: (tx: FakeTransaction, p: FakeProducer) => Promise<void> = async () => undefined;
  describeImpl: () => Promise<KafkaClusterDescription> = async () => ({
    brokers: [{ nodeId: 1, host: 'h', port: 1 }],
    controller: 1,
    clusterId: 'c',
  });

  readonly driver: KafkaDriver = {
    name: 'fake',
    producer: (config) => {
      const p = new FakeProducer(this, config);
      this.producers.push(p);
      return p;
    },
    consumer: (config, listeners) => {
      const c = new FakeConsumer(this, config, listeners);
      this.consumers.push(c);
      return c;
    },
    admin: () => {
      const a = new FakeAdmin(this);
      this.admins.push(a);
      return a;
    },
    classifyError: (error) => (error as { kind?: KafkaErrorKind }).kind ?? 'unknown',
  };

  readonly factory: KafkaDriverFactory = (config) => {
    this.config = config;
    return this.driver;
  };

  get sharedProducers(): FakeProducer[] {
    return this.producers.filter((p) => !p.config.transactionalId);
  }

  get txProducers(): FakeProducer[] {
    return this.producers.filter((p) => p.config.transactionalId);
  }
}
