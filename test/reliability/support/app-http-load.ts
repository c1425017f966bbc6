import { request } from 'node:http';

/** How one POST /orders ended, as the client saw it. */
export type OrderOutcomeKind =
  /** 201 Created: the order was confirmed by the broker. */
  | 'created'
  /** 503 Service Unavailable: refused cleanly (shutting down / saturated). */
  | 'unavailable'
  /** Any other HTTP status. */
  | 'other-status'
  /** TCP connect refused: the server had stopped listening. */
  | 'refused'
  /** Connection reset or closed without a response. */
  | 'reset'
  /** Anything else (timeout, …). */
  | 'error';

export interface OrderOutcome {
  readonly sku: string;
  readonly kind: OrderOutcomeKind;
  readonly status?: number;
  /** Parsed JSON body (201: `{ id }`; 503: `{ code, … }`). */
  readonly body?: Record<string, unknown>;
  readonly retryAfter?: string;
  readonly error?: string;
  readonly startedAt: number;
  readonly endedAt: number;
}

export interface OrderLoad {
  readonly outcomes: OrderOutcome[];
  /** Stops every worker after its current request. */
  stop(): void;
  /** Resolves when every worker stopped (each stops by itself after a refused connect). */
  readonly done: Promise<void>;
}

/**
 * `concurrency` workers POSTing orders in a loop, each request on its own connection (no keep-alive),
 * so a connection the server has stopped accepting shows as "refused" and a reset can only hit a
 * request that was already sent. Every order has a unique `sku` (`<prefix>-<worker>-<n>`), which the
 * test finds again in the broker's copy of the message.
 */
export function startOrderLoad(base: string, concurrency: number, prefix: string): OrderLoad {
  const outcomes: OrderOutcome[] = [];
  let stopped = false;
  const url = new URL('/orders', base);
  const worker = async (w: number): Promise<void> => {
    for (let n = 0; !stopped; n++) {
      const outcome = await postOrder(url, `${prefix}-${w}-${n}`);
      outcomes.push(outcome);
      if (outcome.kind === 'refused') return; // the server is gone for good
    }
  };
  const done = Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w))).then(
    () => undefined,
  );
  return {
    outcomes,
    stop: () => {
      stopped = true;
    },
    done,
  };
}

function postOrder(url: URL, sku: string): Promise<OrderOutcome> {
  const payload = JSON.stringify({ sku, quantity: 1 });
  const startedAt = performance.now();
  return new Promise((resolve) => {
    const done = (o: Omit<OrderOutcome, 'sku' | 'startedAt' | 'endedAt'>) =>
      resolve({ sku, startedAt, endedAt: performance.now(), ...o });
    const req = request(
      url,
      {
        method: 'POST',
        agent: false,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
        },
        timeout: 60_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e) => done({ kind: 'reset', status: res.statusCode, error: e.message }));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          let body: Record<string, unknown> | undefined;
          try {
            body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
          } catch {
            body = undefined;
          }
          const retryAfter = res.headers['retry-after'];
          done({
            kind: status === 201 ? 'created' : status === 503 ? 'unavailable' : 'other-status',
            status,
            body,
            ...(retryAfter === undefined ? {} : { retryAfter: String(retryAfter) }),
          });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('client timeout')));
    req.on('error', (e: NodeJS.ErrnoException) => {
      const kind: OrderOutcomeKind =
        e.code === 'ECONNREFUSED'
          ? 'refused'
          : e.code === 'ECONNRESET' || e.code === 'EPIPE' || /socket hang up/.test(e.message)
            ? 'reset'
            : 'error';
      done({ kind, error: `${e.code ?? ''} ${e.message}`.trim() });
    });
    req.end(payload);
  });
}
