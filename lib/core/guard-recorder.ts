/** An object of methods that report something and return nothing: a metrics recorder, a hook set. */
export type Recorder<R> = { [K in keyof R]: (...args: never[]) => void };

/**
 * Wraps a recorder so that one that throws is reported through `onError` and otherwise ignored.
 * Recorders are called from the middle of pool operations and broker callbacks: a throw between
 * handing out a lease and resolving its caller would leak the resource, and one inside an amqplib
 * or kafkajs callback would break the client's own bookkeeping. The methods guarded are those of
 * `noop` (the recorder's null object, which has every method as an own key), so a recorder that
 * keeps its methods on a prototype is guarded too. `noop` itself is returned as is: nothing to
 * guard, and callers may compare against it to skip measuring when nobody records.
 */
export function guardRecorder<R extends Recorder<R>>(
  recorder: R,
  noop: R,
  onError: (method: string, error: unknown) => void,
): R {
  if (recorder === noop) return recorder;
  const guarded: Partial<Record<keyof R, (...args: unknown[]) => void>> = {};
  for (const method of Object.keys(noop) as (keyof R & string)[]) {
    const fn = recorder[method] as unknown as (...args: unknown[]) => void;
    guarded[method] = (...args: unknown[]): void => {
      try {
        fn.apply(recorder, args);
      } catch (error) {
        onError(method, error);
      }
    };
  }
  return guarded as unknown as R;
}
