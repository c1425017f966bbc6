import type { Options } from 'amqplib';

/** `rabbitmq.topology` (DESIGN §6): declared at start before any handler attaches, and after every reconnect. */
export interface RabbitTopology {
  exchanges?: RabbitExchangeDeclaration[];
  queues?: RabbitQueueDeclaration[];
  bindings?: RabbitBindingDeclaration[];
}

export interface RabbitExchangeDeclaration {
  name: string;
  type: 'direct' | 'topic' | 'fanout' | 'headers';
  options?: Options.AssertExchange;
}

export interface RabbitQueueDeclaration {
  name: string;
  /** Default 'classic'; sets `x-queue-type`. */
  type?: 'classic' | 'quorum';
  options?: Options.AssertQueue;
}

export interface RabbitBindingDeclaration {
  exchange: string;
  queue: string;
  /** Default ''. */
  routingKey?: string;
  arguments?: Record<string, unknown>;
}
