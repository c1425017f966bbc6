import { InvalidPoolOptionsError } from '../core/errors/invalid-pool-options.error.js';

// The name becomes part of DI tokens and the `pool` label of every metric: keep it label-safe.
const POOL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** Validates a registration name; called when `forRoot`/`forRootAsync` is evaluated. */
export function assertPoolName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !POOL_NAME.test(name)) {
    throw new InvalidPoolOptionsError(
      'name',
      `expected 1-64 characters of letters, digits, "_", "." or "-" starting with a letter or digit, got ${describeName(name)}`,
      'pass a short identifier such as "orders", or leave it out for the default pool',
    );
  }
}

function describeName(name: unknown): string {
  return typeof name === 'string' ? JSON.stringify(name.slice(0, 80)) : typeof name;
}
