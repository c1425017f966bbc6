// Protocol-level reachability checks for the brokers (a TCP connect alone would also accept a
// half-started broker or an unrelated program on the port).
//
//   node scripts/brokers/probe.mjs amqp  <url>          -> "RabbitMQ 3.10.8 (Erlang 25.2.3)"
//   node scripts/brokers/probe.mjs kafka <host:port,..> -> "Kafka 4.1.x (metadata.version ...)"
//   node scripts/brokers/probe.mjs tcp   <host:port>    -> exit 0 when something accepts a connection
//
// Exit 0 and one line on stdout when the broker answers; exit 1 and the reason on stderr when not.
// Never prints credentials.
/* global setTimeout, clearTimeout */
import net from 'node:net';
import amqp from 'amqplib';
import kafkajs from 'kafkajs';

const TIMEOUT_MS = Number(process.env.BROKERS_PROBE_TIMEOUT_MS ?? 4000);

// kafkajs 2.2.4 arms its request-queue timer with a negative delay when nothing is pending; Node
// 23+ warns about it (TimeoutNegativeWarning) and, like Node 20 silently, waits 1 ms. The probe's
// stderr is its answer, so that warning stays out of it; any other warning is still printed.
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (warning.name !== 'TimeoutNegativeWarning') console.error(String(warning.stack ?? warning));
});

/** First host:port of a comma-separated broker list or an AMQP URL, for plain TCP use. */
function hostPort(address) {
  const [host, port] = address.trim().split(/:(?=\d+$)/);
  return { host, port: Number(port) };
}

function withTimeout(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} timed out after ${TIMEOUT_MS} ms`)),
      TIMEOUT_MS,
    );
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function redact(url) {
  try {
    const parsed = new URL(url);
    parsed.username = parsed.username ? '***' : '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return '<unparsable url>';
  }
}

async function probeTcp(address) {
  const { host, port } = hostPort(address);
  await withTimeout(
    new Promise((resolve, reject) => {
      const socket = net.connect({ host, port }, () => {
        socket.destroy();
        resolve();
      });
      socket.on('error', reject);
    }),
    `TCP connect to ${host}:${port}`,
  );
  return `something listens on ${host}:${port}`;
}

async function probeAmqp(url) {
  // connection.open-ok proves the AMQP handshake and the credentials.
  const connection = await withTimeout(
    amqp.connect(url, { timeout: TIMEOUT_MS, heartbeat: 0 }),
    `AMQP connect to ${redact(url)}`,
  );
  try {
    const props = connection.connection.serverProperties ?? {};
    const product = String(props.product ?? 'AMQP broker');
    const version = props.version ? ` ${String(props.version)}` : '';
    return `${product}${version}`;
  } finally {
    await connection.close().catch(() => undefined);
  }
}

// metadata.version feature levels -> release line (server-common MetadataVersion). The highest
// level a broker *supports* tells which release its binaries are, which kafkajs cannot report.
const METADATA_VERSION_RELEASES = [
  [7, '3.3'],
  [8, '3.4'],
  [11, '3.5'],
  [14, '3.6'],
  [19, '3.7'],
  [20, '3.8'],
  [21, '3.9'],
  [25, '4.0'],
  [27, '4.1'],
  [29, '4.2'],
  [30, '4.3'],
  [33, '4.4'],
  [34, '4.5'],
];

function releaseOfLevel(level) {
  for (const [maxLevel, release] of METADATA_VERSION_RELEASES) {
    if (level <= maxLevel) return release;
  }
  return `newer than ${METADATA_VERSION_RELEASES.at(-1)[1]}`;
}

/** Raw ApiVersions v3 request: its tagged fields carry the supported/finalized features. */
async function kafkaFeatures(address) {
  const { host, port } = hostPort(address);
  const clientId = Buffer.from('mq-pool-probe');
  const softwareName = Buffer.from('mq-pool-probe');
  const softwareVersion = Buffer.from('1');
  const body = Buffer.concat([
    // request header v2: api_key 18, api_version 3, correlation_id 1, client_id, no tags
    Buffer.from([0, 18, 0, 3, 0, 0, 0, 1, 0, clientId.length]),
    clientId,
    Buffer.from([0]),
    // body v3: compact strings (length + 1) and no tags
    Buffer.from([softwareName.length + 1]),
    softwareName,
    Buffer.from([softwareVersion.length + 1]),
    softwareVersion,
    Buffer.from([0]),
  ]);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);

  const response = await withTimeout(
    new Promise((resolve, reject) => {
      const socket = net.connect({ host, port }, () => socket.write(Buffer.concat([size, body])));
      let received = Buffer.alloc(0);
      socket.on('data', (chunk) => {
        received = Buffer.concat([received, chunk]);
        if (received.length >= 4 && received.length >= 4 + received.readInt32BE(0)) {
          socket.destroy();
          resolve(received.subarray(4, 4 + received.readInt32BE(0)));
        }
      });
      socket.on('error', reject);
      socket.on('close', () => reject(new Error('connection closed before the ApiVersions reply')));
    }),
    `Kafka ApiVersions to ${host}:${port}`,
  );

  let offset = 4; // correlation id (response header v0)
  const readVarint = () => {
    let value = 0;
    let shift = 0;
    for (;;) {
      const byte = response[offset++];
      value |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return value;
      shift += 7;
    }
  };
  const skipTags = () => {
    const count = readVarint();
    for (let i = 0; i < count; i++) {
      readVarint();
      offset += readVarint();
    }
  };
  const errorCode = response.readInt16BE(offset);
  offset += 2;
  if (errorCode !== 0) throw new Error(`ApiVersions v3 error code ${errorCode}`);
  const apiCount = readVarint() - 1;
  for (let i = 0; i < apiCount; i++) {
    offset += 6;
    skipTags();
  }
  offset += 4; // throttle_time_ms
  const features = {};
  const tagCount = readVarint();
  for (let t = 0; t < tagCount; t++) {
    const tag = readVarint();
    const tagSize = readVarint();
    const end = offset + tagSize;
    if (tag === 0 || tag === 2) {
      // SupportedFeatures: name, min, max; FinalizedFeatures: name, max, min
      const count = readVarint() - 1;
      for (let i = 0; i < count; i++) {
        const nameLength = readVarint() - 1;
        const name = response.toString('utf8', offset, offset + nameLength);
        offset += nameLength;
        const first = response.readInt16BE(offset);
        const second = response.readInt16BE(offset + 2);
        offset += 4;
        skipTags();
        const entry = (features[name] ??= {});
        if (tag === 0) entry.supportedMax = second;
        else entry.finalized = first;
      }
    }
    offset = end;
  }
  return features;
}

async function probeKafka(brokers) {
  const list = brokers
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  const kafka = new kafkajs.Kafka({
    clientId: 'mq-pool-probe',
    brokers: list,
    connectionTimeout: TIMEOUT_MS,
    requestTimeout: TIMEOUT_MS,
    retry: { retries: 0 },
    logLevel: kafkajs.logLevel.NOTHING,
  });
  const admin = kafka.admin();
  let cluster;
  try {
    await withTimeout(admin.connect(), `Kafka connect to ${list.join(',')}`);
    // A metadata request answered with a controller means the KRaft quorum is up too.
    cluster = await withTimeout(admin.describeCluster(), 'Kafka metadata request');
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  if (cluster.brokers.length === 0) throw new Error('Kafka answered with no brokers');
  if (cluster.controller === null || cluster.controller === undefined || cluster.controller < 0) {
    throw new Error('Kafka answered but has no active controller yet');
  }

  let version = 'version unknown';
  try {
    const mv = (await kafkaFeatures(list[0]))['metadata.version'];
    if (mv?.supportedMax !== undefined) {
      const inUse = mv.finalized !== undefined ? `, ${mv.finalized} in use` : '';
      version = `${releaseOfLevel(mv.supportedMax)}.x (metadata.version level ${mv.supportedMax} supported${inUse})`;
    }
  } catch (error) {
    version = `version unknown (${error.message})`;
  }
  return `Apache Kafka ${version}; cluster ${cluster.clusterId}, ${cluster.brokers.length} broker(s)`;
}

const [kind, target] = process.argv.slice(2);
const probes = { amqp: probeAmqp, kafka: probeKafka, tcp: probeTcp };
if (!probes[kind] || !target) {
  console.error('usage: probe.mjs amqp <url> | kafka <host:port,...> | tcp <host:port>');
  process.exit(2);
}
try {
  console.log(await probes[kind](target));
  process.exit(0);
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  console.error(message.replaceAll(target, kind === 'amqp' ? redact(target) : target));
  process.exit(1);
}
