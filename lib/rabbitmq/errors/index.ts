export { ConfirmTimeoutError } from './confirm-timeout.error.js';
export { ConnectionUnavailableError } from './connection-unavailable.error.js';
export { PublishFailedError } from './publish-failed.error.js';
export { PublishRejectedError } from './publish-rejected.error.js';
export { PublishUnconfirmedError } from './publish-unconfirmed.error.js';
export { StaleDeliveryError } from './stale-delivery.error.js';
export { UnroutableMessageError } from './unroutable-message.error.js';
