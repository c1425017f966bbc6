import { describe, expect, it } from 'vitest';

import { TypedEmitter } from '../../../lib/core/typed-emitter.js';
import { recordingLogger } from './support/make-pool.js';

interface Events {
  ping: { n: number };
  pong: string;
}

describe('TypedEmitter', () => {
  it('delivers payloads to listeners in registration order', () => {
    const emitter = new TypedEmitter<Events>(recordingLogger(), 'test');
    const seen: string[] = [];
    emitter.on('ping', (p) => seen.push(`a${p.n}`)).on('ping', (p) => seen.push(`b${p.n}`));
    emitter.emit('ping', { n: 1 });
    expect(seen).toEqual(['a1', 'b1']);
  });

  it('a listener that throws is logged; the others still run and emit never throws', () => {
    const logger = recordingLogger();
    const emitter = new TypedEmitter<Events>(logger, 'pool "x"');
    const seen: string[] = [];
    emitter.on('pong', () => {
      throw new Error('listener bug');
    });
    emitter.on('pong', (p) => seen.push(p));
    expect(() => emitter.emit('pong', 'hi')).not.toThrow();
    expect(seen).toEqual(['hi']);
    expect(logger.lines[0]).toMatchObject({
      level: 'error',
      message: `pool "x": a 'pong' listener threw; ignored`,
    });
  });

  it('off removes one registration; emitting with no listener is a no-op', () => {
    const emitter = new TypedEmitter<Events>(recordingLogger(), 'test');
    const seen: number[] = [];
    const listener = (p: { n: number }) => seen.push(p.n);
    emitter.on('ping', listener);
    emitter.off('ping', listener);
    emitter.emit('ping', { n: 1 });
    expect(seen).toEqual([]);
    expect(emitter.hasListeners('ping')).toBe(false);
  });

  it('a listener removed during an emit still sees that emit, not the next one', () => {
    const emitter = new TypedEmitter<Events>(recordingLogger(), 'test');
    const seen: string[] = [];
    const second = () => seen.push('second');
    emitter.on('pong', () => emitter.off('pong', second));
    emitter.on('pong', second);
    emitter.emit('pong', '1');
    emitter.emit('pong', '2');
    expect(seen).toEqual(['second']);
  });
});
