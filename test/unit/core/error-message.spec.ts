import { describe, expect, it } from 'vitest';
import { errorMessage } from '../../../lib/core/with-deadline.js';

describe('errorMessage', () => {
  it('describes Errors and the non-Error values handlers throw, never dumping an object', () => {
    expect(errorMessage(new TypeError('bad'))).toBe('TypeError: bad');
    expect(errorMessage('just a string')).toBe('just a string');
    expect(errorMessage({ message: 'shaped like an error', password: 'x' })).toBe(
      'Object: shaped like an error',
    );
    expect(errorMessage({ reason: 'no message', password: 'x' })).toBe(
      'a thrown Object (not an Error)',
    );
    expect(errorMessage(undefined)).toBe('undefined thrown (not an Error)');
    expect(errorMessage(42)).toBe('42 thrown (not an Error)');
    expect(errorMessage(Object.create(null))).toBe('a thrown object (not an Error)');
  });
});
