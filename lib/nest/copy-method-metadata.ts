import 'reflect-metadata';

/**
 * Copies every metadata entry of `from` (a method) onto `to` (its wrapper), so decorators applied
 * before ours (`@Get()`, `@UseGuards()`, `@EventPattern()`… they store metadata on the function
 * itself) keep working after `descriptor.value` is replaced. Keeps the name too (stack traces,
 * Nest's route logs).
 */
export function copyMethodMetadata(from: object, to: object): void {
  for (const key of Reflect.getOwnMetadataKeys(from)) {
    Reflect.defineMetadata(key, Reflect.getOwnMetadata(key, from), to);
  }
  const name = (from as { name?: unknown }).name;
  if (typeof name === 'string')
    Object.defineProperty(to, 'name', { value: name, configurable: true });
}
