import { createConnection } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { ChannelModel } from 'amqplib';

/** True when something accepts TCP connections on 127.0.0.1:`port` right now. */
export function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Polls every `everyMs` until `port` accepts connections; resolves with the time it first did. */
export async function waitForPortOpen(
  port: number,
  timeoutMs: number,
  everyMs = 10,
): Promise<number> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await portAccepts(port)) return Date.now();
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`port ${port} did not open within ${timeoutMs}ms`);
}

/**
 * Collects every `unhandledRejection` / `uncaughtException` while installed. Vitest reports them
 * too, but only after the test; counting them lets a scenario assert "no unhandled error" itself.
 */
export function trapUnhandled(): { readonly errors: unknown[]; dispose(): void } {
  const errors: unknown[] = [];
  const onError = (reason: unknown): void => {
    errors.push(reason);
  };
  process.on('unhandledRejection', onError);
  process.on('uncaughtException', onError);
  return {
    errors,
    dispose() {
      process.off('unhandledRejection', onError);
      process.off('uncaughtException', onError);
    },
  };
}

/**
 * Reads every message of `queue` (no ack) and returns the `messageId`s with their counts. `admin` is
 * the test's own connection, never the pool under test.
 */
export async function drainMessageIds(
  admin: ChannelModel,
  queue: string,
  idleMs = 2_000,
): Promise<Map<string, number>> {
  const ch = await admin.createChannel();
  const ids = new Map<string, number>();
  try {
    const { messageCount } = await ch.checkQueue(queue);
    await ch.prefetch(2_000);
    let seen = 0;
    let lastAt = Date.now();
    await ch.consume(
      queue,
      (m) => {
        if (!m) return;
        const id = String(m.properties.messageId);
        ids.set(id, (ids.get(id) ?? 0) + 1);
        seen++;
        lastAt = Date.now();
      },
      { noAck: true },
    );
    // The depth counted at checkQueue is what must arrive; stop early only if deliveries stall.
    while (seen < messageCount && Date.now() - lastAt < idleMs) {
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    await ch.close().catch(() => undefined);
  }
  return ids;
}

/**
 * A full, synchronous garbage collection. Vitest workers do not run with `--expose-gc`; V8 can turn
 * the flag on at run time, and a fresh context then gets a `gc` function (the process' own global
 * does not, it was created before the flag).
 */
export function fullGc(): () => void {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (typeof existing === 'function') return existing;
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as unknown;
  if (typeof gc !== 'function') throw new Error('could not obtain gc() via --expose-gc');
  return gc as () => void;
}

/** Heap used after several full collections (finalizers and weak callbacks get to run in between). */
export async function settledHeapUsed(gc: () => void): Promise<number> {
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
  gc();
  return process.memoryUsage().heapUsed;
}
