import { BadRequestException, Body, Controller, HttpCode, Post } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { KafkaPool } from 'nestjs-mq-pool';
import { AppCounters } from '../app-counters.js';
import { EVENTS_TOPIC, LEDGER_TOPIC } from '../sample-config.js';

interface EventBody {
  type?: unknown;
  payload?: unknown;
}

interface TransferBody {
  from?: unknown;
  to?: unknown;
  amount?: unknown;
}

@Controller('events')
export class EventsController {
  constructor(
    private readonly kafka: KafkaPool,
    private readonly counters: AppCounters,
  ) {}

  /** One record on the shared idempotent producer (`acks: -1`). */
  @Post()
  @HttpCode(201)
  async publish(
    @Body() body: EventBody,
  ): Promise<{ id: string; partition: number; offset: string }> {
    if (typeof body.type !== 'string' || body.type.length === 0)
      throw new BadRequestException('type must be a non-empty string');
    const id = randomUUID();
    const [meta] = await this.kafka.send({
      topic: EVENTS_TOPIC,
      messages: [
        {
          key: body.type,
          value: JSON.stringify({ id, type: body.type, payload: body.payload ?? null }),
        },
      ],
    });
    this.counters.eventsSent++;
    return { id, partition: meta?.partition ?? -1, offset: meta?.offset ?? meta?.baseOffset ?? '' };
  }

  /**
   * Both legs of a transfer in one Kafka transaction, on a transactional producer leased from the
   * pool: a `read_committed` consumer sees both records or neither.
   */
  @Post('transfer')
  @HttpCode(201)
  async transfer(@Body() body: TransferBody): Promise<{ id: string; transactionalId: string }> {
    const { from, to, amount } = body;
    if (
      typeof from !== 'string' ||
      typeof to !== 'string' ||
      typeof amount !== 'number' ||
      !(amount > 0)
    ) {
      throw new BadRequestException('from and to must be strings, amount a positive number');
    }
    const id = randomUUID();
    const transactionalId = await this.kafka.withTransaction(async (tx) => {
      await tx.send({
        topic: LEDGER_TOPIC,
        messages: [{ key: from, value: JSON.stringify({ id, account: from, delta: -amount }) }],
      });
      await tx.send({
        topic: LEDGER_TOPIC,
        messages: [{ key: to, value: JSON.stringify({ id, account: to, delta: amount }) }],
      });
      return tx.transactionalId;
    });
    this.counters.transactionsCommitted++;
    return { id, transactionalId };
  }
}
