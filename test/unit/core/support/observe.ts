/** Watches a promise without awaiting it (and without leaving a rejection unhandled). */
export interface Observed<T> {
  status: 'pending' | 'fulfilled' | 'rejected';
  value: T | undefined;
  error: unknown;
  readonly promise: Promise<T>;
}

export function observe<T>(promise: Promise<T>): Observed<T> {
  const observed: Observed<T> = { status: 'pending', value: undefined, error: undefined, promise };
  promise.then(
    (value) => {
      observed.status = 'fulfilled';
      observed.value = value;
    },
    (error: unknown) => {
      observed.status = 'rejected';
      observed.error = error;
    },
  );
  return observed;
}
