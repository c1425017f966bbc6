import { MqPoolError } from '../../core/errors/mq-pool.error.js';

/**
 * A handler finished after the channel its message came on had died. Acking on the new channel
 * would close it with 406 "unknown delivery tag", so the ack/nack is dropped: the broker has already
 * requeued the message and will deliver it again (consumers should be idempotent).
 */
export class StaleDeliveryError extends MqPoolError {
  readonly code = 'MQ_POOL_STALE_DELIVERY';

  constructor(
    readonly queue: string,
    readonly deliveryTag: number,
    readonly channelGeneration: number,
    readonly outcome: 'ack' | 'nack',
  ) {
    super(
      `Dropped ${outcome} of delivery ${deliveryTag} from queue "${queue}": its channel (generation ${channelGeneration}) ` +
        'closed while the handler ran. The broker requeues the message; make handlers idempotent.',
    );
  }
}
