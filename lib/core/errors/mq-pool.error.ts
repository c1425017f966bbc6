/**
 * Base class of every error this library throws. `code` is stable across releases, so callers
 * and log pipelines can branch on it without parsing messages.
 */
export abstract class MqPoolError extends Error {
  abstract readonly code: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}
