/** Memoises label children by their one varying label value (reason, outcome: small bounded sets). */
export function labelCache<C>(make: (value: string) => C): (value: string) => C {
  const children = new Map<string, C>();
  return (value) => {
    let child = children.get(value);
    if (child === undefined) {
      child = make(value);
      children.set(value, child);
    }
    return child;
  };
}
