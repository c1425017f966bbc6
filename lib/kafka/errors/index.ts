export { BrokerUnreachableError } from './broker-unreachable.error.js';
export { ConsumerFailedError } from './consumer-failed.error.js';
export { ConsumerJoinTimeoutError } from './consumer-join-timeout.error.js';
export { ProducerFencedError } from './producer-fenced.error.js';
export { SendFailedError } from './send-failed.error.js';
export { SendTimeoutError } from './send-timeout.error.js';
export { TransactionEndedError } from './transaction-ended.error.js';
export { TransactionFailedError, type TransactionPhase } from './transaction-failed.error.js';
export { TransactionsNotConfiguredError } from './transactions-not-configured.error.js';
