import { Logger, type LoggerService } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { NestMqLogger } from '../../../lib/index.js';

describe('NestMqLogger', () => {
  it('maps MqLogger levels to a Nest LoggerService with fields as one JSON object, redacting URLs', () => {
    const seen: string[] = [];
    const nest: LoggerService = {
      log: (m: string, ctx?: string) => seen.push(`log ${ctx} ${m}`),
      warn: (m: string, ctx?: string) => seen.push(`warn ${ctx} ${m}`),
      error: (m: string, _trace?: string, ctx?: string) => seen.push(`error ${ctx} ${m}`),
      debug: (m: string, ctx?: string) => seen.push(`debug ${ctx} ${m}`),
    };
    const logger = new NestMqLogger('MqPool:orders', nest);
    logger.info('connected', { target: 'amqp://user:s3cret@broker:5672/', n: 1 });
    logger.warn('slow');
    logger.error('failed', { error: Object.assign(new Error('nope'), { code: 'E1' }) });
    logger.debug('dbg', { big: 10n });
    expect(seen).toEqual([
      'log MqPool:orders connected {"target":"amqp://***@broker:5672/","n":1}',
      'warn MqPool:orders slow',
      'error MqPool:orders failed {"error":{"name":"Error","message":"nope","code":"E1"}}',
      'debug MqPool:orders dbg {"big":"10"}',
    ]);
    expect(seen.join()).not.toContain('s3cret');
  });

  it("with Nest's own Logger, prints each line once under the pool's context (no extra context or 'undefined' line)", () => {
    const printed: unknown[][] = [];
    const sink: LoggerService = {
      log: (...args: unknown[]) => printed.push(['log', ...args]),
      warn: (...args: unknown[]) => printed.push(['warn', ...args]),
      error: (...args: unknown[]) => printed.push(['error', ...args]),
      debug: (...args: unknown[]) => printed.push(['debug', ...args]),
    };
    Logger.overrideLogger(sink);
    try {
      const logger = new NestMqLogger('MqPool:orders');
      logger.info('up');
      logger.error('down', { n: 1 });
    } finally {
      Logger.overrideLogger(true);
    }
    expect(printed).toEqual([
      ['log', 'up', 'MqPool:orders'],
      ['error', 'down {"n":1}', undefined, 'MqPool:orders'],
    ]);
  });
});
