import { Injectable, Logger, UsePipes, ValidationPipe } from '@nestjs/common';
import { RabbitRpc, RabbitSubscribe, type RabbitMessage } from 'nestjs-mq-pool';
import { AppCounters } from '../app-counters.js';
import {
  ORDER_CREATED_KEY,
  ORDERS_EXCHANGE,
  ORDERS_QUEUE,
  QUOTES_QUEUE,
} from '../sample-config.js';
import { type OrderDto, type Quote, QuoteRequestDto } from './order.dto.js';

// `ValidationPipe` validates parameter 0 against its DTO class: no decorator on the parameter.
// A message it rejects is dead-lettered at once (never retried), with the reason in its headers.
const validate = new ValidationPipe({ transform: true });

/**
 * The declarative style: the library finds these methods at boot, declares and binds their
 * queues, attaches them once the pool is up, re-attaches them after a reconnect and drains them on
 * shutdown (running handlers finish and are acked). Readiness stays down until both are attached.
 * `OrdersAuditConsumer` shows the low-level `pool.consume()` these replace.
 */
@Injectable()
export class OrdersHandler {
  private readonly logger = new Logger(OrdersHandler.name);

  constructor(private readonly counters: AppCounters) {}

  /**
   * Resolve → ack. Throw → retried after 1 s, then 5 s; after the third failed delivery the message
   * goes to `sample.orders.fulfilment.dlq` with its headers and the last error.
   */
  @RabbitSubscribe({
    queue: ORDERS_QUEUE,
    exchange: ORDERS_EXCHANGE,
    routingKey: ORDER_CREATED_KEY,
    prefetch: 50,
    retry: { attempts: 3, delayMs: [1_000, 5_000] },
  })
  @UsePipes(validate)
  async fulfil(order: OrderDto, message: RabbitMessage): Promise<void> {
    if (order.quantity > 1_000) {
      this.logger.warn(
        `large order ${order.id} (attempt ${message.attempt}): ${order.quantity} × ${order.sku}`,
      );
    }
    this.counters.ordersConsumed++;
  }

  /** Request/reply: `pool.request('', QUOTES_QUEUE, …)` resolves with what this returns. */
  @RabbitRpc({ queue: QUOTES_QUEUE, prefetch: 20 })
  @UsePipes(validate)
  async quote(request: QuoteRequestDto): Promise<Quote> {
    const unitPrice = 5 + (request.sku.length % 7);
    return { ...request, unitPrice, total: unitPrice * request.quantity };
  }
}
