/**
 * Internal DI tokens: not exported from the package root. Public tokens live in
 * `mq-pool.constants.ts`; keeping them apart makes the public surface explicit.
 */

/** Validated, defaulted module options of the registration named `name`. */
export function getResolvedOptionsToken(name: string): string {
  return `nestjs-mq-pool:options:${name}`;
}

/** The per-registration lifecycle object (`PoolRegistration`) of `name`. */
export function getRegistrationToken(name: string): string {
  return `nestjs-mq-pool:registration:${name}`;
}

/** The raw options a registration was given (forRoot value or forRootAsync factory result). */
export const MQ_POOL_RAW_OPTIONS = 'nestjs-mq-pool:raw-options';

/** The registration's `MqMetrics` (or `null` when metrics are disabled). */
export function getMetricsToken(name: string): string {
  return `nestjs-mq-pool:metrics:${name}`;
}
