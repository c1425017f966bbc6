import { Inject } from '@nestjs/common';
import { getPoolToken } from './mq-pool.constants.js';

/**
 * Injects the `RabbitMqPool` of registration `name` (default pool when omitted; the default pool
 * is also injectable by its class). Unknown names fail at startup with Nest's "can't resolve
 * dependencies" error naming the token `nestjs-mq-pool:rabbitmq:<name>`; a registration without
 * `rabbitmq` options fails at startup with `PoolNotRegisteredError`.
 */
export const InjectRabbitMqPool = (name?: string): PropertyDecorator & ParameterDecorator =>
  Inject(getPoolToken('rabbitmq', name));

/** Injects the `KafkaPool` of registration `name`; see `InjectRabbitMqPool`. */
export const InjectKafkaPool = (name?: string): PropertyDecorator & ParameterDecorator =>
  Inject(getPoolToken('kafka', name));
