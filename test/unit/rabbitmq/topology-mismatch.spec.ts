import { describe, expect, it } from 'vitest';

import { TopologyMismatchError } from '../../../lib/rabbitmq/errors/topology-mismatch.error.js';
import { topologyMismatchFrom } from '../../../lib/rabbitmq/topology-mismatch.js';

/** amqplib's channel-close error, as a 406 on queue.declare produces it. */
function channelClose(code: number, reply: string): Error {
  return Object.assign(
    new Error(
      `Operation failed: QueueDeclare; ${code} (PRECONDITION-FAILED) with message "${reply}"`,
    ),
    { code },
  );
}

describe('topologyMismatchFrom', () => {
  it('names the entity and the differing argument of a 406 PRECONDITION_FAILED', () => {
    const reply =
      "PRECONDITION_FAILED - inequivalent arg 'x-queue-type' for queue 'orders' in vhost '/': received none but current is the value 'quorum' of type 'longstr'";
    const error = topologyMismatchFrom(channelClose(406, reply), { kind: 'queue', name: 'orders' });
    expect(error).toBeInstanceOf(TopologyMismatchError);
    expect(error?.code).toBe('MQ_TOPOLOGY_MISMATCH');
    expect(error?.entity).toEqual({ kind: 'queue', name: 'orders' });
    expect(error?.argument).toBe('x-queue-type');
    expect(error?.brokerReply).toBe(reply);
    expect(error?.message).toContain('queue "orders"');
  });

  it('leaves any other failure to the caller', () => {
    const notFound = channelClose(404, "NOT_FOUND - no exchange 'x' in vhost '/'");
    expect(topologyMismatchFrom(notFound, { kind: 'queue', name: 'q' })).toBeUndefined();
    expect(
      topologyMismatchFrom(new Error('socket closed'), { kind: 'queue', name: 'q' }),
    ).toBeUndefined();
    expect(topologyMismatchFrom(undefined, { kind: 'queue', name: 'q' })).toBeUndefined();
  });
});
