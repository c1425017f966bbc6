/**
 * Runs the adapter's ping under our own deadline too, so a probe never outlives `timeoutMs` (plus a
 * small grace) even if a ping ignored its own. Returns `undefined` when it succeeded, otherwise a
 * short reason without hosts or credentials (Terminus logs it).
 */
export async function boundedPing(
  ping: (timeoutMs: number) => Promise<void>,
  timeoutMs: number,
): Promise<string | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`ping timed out after ${timeoutMs}ms`), timeoutMs + 50);
    timer.unref();
  });
  try {
    return await Promise.race([
      ping(timeoutMs).then(
        () => undefined,
        (e: unknown) => `ping failed (${errorLabel(e)})`,
      ),
      deadline,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function errorLabel(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return typeof code === 'string' ? code : e.name;
  }
  return 'unknown error';
}
