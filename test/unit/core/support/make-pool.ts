import { Pool } from '../../../../lib/core/pool.js';
import type { PoolOptions } from '../../../../lib/core/pool-options.js';
import type { MqLogger } from '../../../../lib/core/logger.js';
import { FakeClock } from './fake-clock.js';
import { TestFactory, type TestResource } from './test-factory.js';

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  fields: Record<string, unknown> | undefined;
}

export function recordingLogger(): MqLogger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: LogLine['level']) => (message: string, fields?: Record<string, unknown>) =>
    void lines.push({ level, message, fields });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** A pool on fake time over an in-memory factory; `random` fixed at 0.5 unless given. */
export function makePool(options: Partial<PoolOptions> = {}, factory = new TestFactory()) {
  const clock = new FakeClock();
  const logger = recordingLogger();
  const pool = new Pool<TestResource>(factory, {
    max: 2,
    clock,
    logger,
    random: () => 0.5,
    ...options,
  });
  return { pool, clock, factory, logger };
}
