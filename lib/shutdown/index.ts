export { MqPoolShutdown } from './mq-pool-shutdown.service.js';
