import { once } from 'node:events';
import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { coalesceWrites } from '../../../lib/rabbitmq/write-coalescer.js';

/** A real loopback TCP connection (no broker involved): what amqplib's socket is. */
async function socketPair(): Promise<{
  client: net.Socket;
  received: () => Buffer;
  close(): void;
}> {
  const chunks: Buffer[] = [];
  let serverSide: net.Socket | undefined;
  const server = net.createServer((s) => {
    serverSide = s;
    s.on('data', (d: Buffer) => chunks.push(d));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  const client = net.connect(port, '127.0.0.1');
  await once(client, 'connect');
  return {
    client,
    received: () => Buffer.concat(chunks),
    close: () => {
      client.destroy();
      serverSide?.destroy();
      server.close();
    },
  };
}

const endOfTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 5));
}

describe('coalesceWrites (loopback TCP)', () => {
  let pair: Awaited<ReturnType<typeof socketPair>>;
  beforeEach(async () => {
    pair = await socketPair();
  });
  afterEach(() => pair.close());

  it('sends the writes of one turn as one writev, in order, uncorked at the end of the turn', async () => {
    const { client } = pair;
    expect(coalesceWrites(client)).toBe(true);
    const writev = vi.spyOn(client as unknown as { _writev: () => void }, '_writev');
    const frames = Array.from({ length: 50 }, (_, i) => Buffer.from(`frame-${i};`));
    for (const f of frames) client.write(f);
    expect(client.writableCorked).toBe(1);
    expect(writev).not.toHaveBeenCalled();
    await endOfTurn();
    expect(client.writableCorked).toBe(0);
    expect(writev).toHaveBeenCalledTimes(1);
    const expected = Buffer.concat(frames);
    await until(() => pair.received().length >= expected.length);
    expect(pair.received().toString()).toBe(expected.toString());
  });

  it('leaves a lone write alone: no cork, written at once', async () => {
    const { client } = pair;
    coalesceWrites(client);
    const writev = vi.spyOn(client as unknown as { _writev: () => void }, '_writev');
    client.write(Buffer.from('alone'));
    expect(client.writableCorked).toBe(0);
    await endOfTurn();
    expect(writev).not.toHaveBeenCalled();
    await until(() => pair.received().length >= 5);
    expect(pair.received().toString()).toBe('alone');
  });

  it('keeps backpressure: write() turns false past the high-water mark and drain follows the flush', async () => {
    const { client } = pair;
    coalesceWrites(client);
    const big = Buffer.alloc(4096, 1);
    let accepted = true;
    let writes = 0;
    while (accepted) {
      accepted = client.write(big);
      writes++;
    }
    expect(writes * big.length).toBeGreaterThanOrEqual(client.writableHighWaterMark);
    await once(client, 'drain');
    expect(client.writableCorked).toBe(0);
    await until(() => pair.received().length >= writes * big.length);
    expect(pair.received().length).toBe(writes * big.length);
  });

  it('is applied once, and refuses what cannot be corked', async () => {
    const { client } = pair;
    expect(coalesceWrites(client)).toBe(true);
    const wrapped = client.write;
    expect(coalesceWrites(client)).toBe(true);
    expect(client.write).toBe(wrapped);
    client.write('a');
    client.write('b');
    expect(client.writableCorked).toBe(1);
    await endOfTurn();
    expect(client.writableCorked).toBe(0);
    expect(coalesceWrites(undefined)).toBe(false);
    expect(coalesceWrites({ write: () => true })).toBe(false);
  });
});
