/**
 * What bench/consume.bench.ts and its sides share: a side is a child process (one per measured
 * run, so every subject starts equally cold) that gets a job as JSON in argv, does it, and prints
 * its figures as one `BENCH-RESULT <json>` line on stdout (libraries may log on stdout too).
 * Node built-ins only: bench/golevelup/golevelup-side.ts imports this from its own package.
 */
import { measure, type Result } from './publish-runner.js';

/** Consume `warmup + messages` prefilled messages from `queue`; measure the last `messages`. */
export interface ConsumeJob {
  readonly kind: 'consume';
  readonly url: string;
  readonly queue: string;
  readonly prefetch: number;
  readonly warmup: number;
  readonly messages: number;
  readonly timeoutMs: number;
}

/** `warmup` requests, a GC, `warmup` more, then `requests` measured, by `concurrency` callers. */
export interface RequestJob {
  readonly kind: 'request';
  readonly url: string;
  /** Served by the bench's responder through the default exchange. */
  readonly queue: string;
  readonly concurrency: number;
  readonly warmup: number;
  readonly requests: number;
  readonly timeoutMs: number;
}

export type BenchJob = ConsumeJob | RequestJob;

export interface ConsumeFigures {
  readonly msgsPerSec: number;
  /** Client CPU (user + system) of the side's process per message, µs. */
  readonly cpuUsPerMsg: number;
}

export type RequestFigures = Result;

/** What every consumed message carries (JSON, ~256 bytes). */
export interface BenchPayload {
  readonly id: number;
  readonly body: string;
}

/** The request every side sends. */
export const REQUEST_PAYLOAD = { op: 'echo', body: 'r'.repeat(200) } as const;

export const RESULT_PREFIX = 'BENCH-RESULT ';

/**
 * Counts handled messages: the clock and the CPU meter start at the `warmup`-th and stop at the
 * `warmup + messages`-th. A handler calls `handled()` once per message, right before it would ack.
 */
export class ConsumeMeter {
  private count = 0;
  private startedAt = 0;
  private cpuAtStart: NodeJS.CpuUsage | undefined;
  private settle: (figures: ConsumeFigures) => void = () => undefined;
  private fail: (error: Error) => void = () => undefined;
  /** Resolves with the figures once every message was handled; rejects after `timeoutMs`. */
  readonly finished: Promise<ConsumeFigures>;

  constructor(private readonly job: ConsumeJob) {
    this.finished = new Promise<ConsumeFigures>((resolve, reject) => {
      this.settle = resolve;
      this.fail = reject;
    });
    const timer = setTimeout(
      () =>
        this.fail(
          new Error(
            `consumed ${this.count} of ${job.warmup + job.messages} messages within ${job.timeoutMs}ms`,
          ),
        ),
      job.timeoutMs,
    );
    void this.finished.finally(() => clearTimeout(timer)).catch(() => undefined);
  }

  handled(): void {
    this.count++;
    if (this.count === this.job.warmup) {
      this.startedAt = performance.now();
      this.cpuAtStart = process.cpuUsage();
    } else if (this.count === this.job.warmup + this.job.messages) {
      const elapsedMs = performance.now() - this.startedAt;
      const cpu = process.cpuUsage(this.cpuAtStart);
      this.settle({
        msgsPerSec: (this.job.messages / elapsedMs) * 1000,
        cpuUsPerMsg: (cpu.user + cpu.system) / this.job.messages,
      });
    }
  }
}

/** Measures `request` as publish-runner measures a publish: warm-up, GC, warm-up, measured run. */
export function measureRequests(
  job: RequestJob,
  request: () => Promise<unknown>,
): Promise<RequestFigures> {
  return measure(
    {
      publish: async () => {
        await request();
      },
      close: async () => undefined,
    },
    job.concurrency,
    job.warmup,
    job.requests,
  );
}

/**
 * The side's main: parses the job from `process.argv[3]` (argv[2] names the subject), runs it,
 * prints the figures for the parent, and exits (non-zero with the reason on stderr on failure).
 */
export function runSide(run: (subject: string, job: BenchJob) => Promise<unknown>): void {
  const [subject = '', jobJson = ''] = process.argv.slice(2);
  run(subject, JSON.parse(jobJson) as BenchJob)
    .then((figures) => {
      process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(figures)}\n`, () => process.exit(0));
    })
    .catch((error: unknown) => {
      console.error(`${subject} side failed:`, error);
      process.exit(1);
    });
}
