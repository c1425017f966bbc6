import { randomUUID } from 'node:crypto';
import { connect, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { amqpUrl } from '../../support/broker-env.js';

// Proves the plumbing only: raw amqplib against the real broker, no library code involved.
describe('RabbitMQ plumbing (raw amqplib)', () => {
  let connection: ChannelModel;
  const queue = `plumbing.rabbitmq.${randomUUID()}`;

  beforeAll(async () => {
    connection = await connect(amqpUrl());
  });

  afterAll(async () => {
    await connection?.close();
  });

  it('publishes one persistent message with a publisher confirm and consumes it', async () => {
    const channel = await connection.createConfirmChannel();
    try {
      await channel.assertQueue(queue, { durable: false, autoDelete: false });
      const body = Buffer.from(JSON.stringify({ id: randomUUID(), at: Date.now() }));

      await new Promise<void>((resolve, reject) => {
        channel.sendToQueue(
          queue,
          body,
          { persistent: true, contentType: 'application/json' },
          (err) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve()),
        );
      });

      const received = new Promise<ConsumeMessage>((resolve) => {
        void channel.consume(queue, (message) => {
          if (message) {
            channel.ack(message);
            resolve(message);
          }
        });
      });
      const message = await received;
      expect(message.content.equals(body)).toBe(true);
      expect(message.properties.contentType).toBe('application/json');
      expect(message.fields.redelivered).toBe(false);
    } finally {
      await channel.deleteQueue(queue).catch(() => undefined);
      await channel.close().catch(() => undefined);
    }
  });
});
