/**
 * The layering rule of DESIGN §2: dependencies point one way,
 * core <- telemetry <- rabbitmq / kafka <- nest <- health, metrics, shutdown.
 * `npm run depcheck` fails when a file breaks it; test/unit/layering.spec.ts proves the rule bites.
 */
const NEST_LAYER = '^lib/(nest|health|metrics|shutdown)/';
module.exports = {
  forbidden: [
    {
      name: 'core-is-framework-free',
      comment: 'lib/core imports nothing from Nest, amqplib, kafkajs or the layers above it.',
      severity: 'error',
      from: { path: '^lib/core/' },
      to: {
        path: [
          '@nestjs',
          'amqplib',
          'kafkajs',
          'prom-client',
          '^lib/(telemetry|rabbitmq|kafka|nest|health|metrics|shutdown)/',
        ],
      },
    },
    {
      name: 'telemetry-is-broker-neutral',
      comment:
        'lib/telemetry (OpenTelemetry glue over the optional @opentelemetry/api) depends on the core only.',
      severity: 'error',
      from: { path: '^lib/telemetry/' },
      to: {
        path: [
          '@nestjs',
          'amqplib',
          'kafkajs',
          'prom-client',
          '^lib/(rabbitmq|kafka|nest|health|metrics|shutdown)/',
        ],
      },
    },
    {
      name: 'rabbitmq-adapter-only-core-and-amqplib',
      comment: 'The RabbitMQ adapter depends on the core and amqplib only.',
      severity: 'error',
      from: { path: '^lib/rabbitmq/' },
      to: {
        path: ['@nestjs', 'kafkajs', 'prom-client', '^lib/(kafka|nest|health|metrics|shutdown)/'],
      },
    },
    {
      name: 'kafka-adapter-only-core-and-kafkajs',
      comment: 'The Kafka adapter depends on the core and kafkajs only.',
      severity: 'error',
      from: { path: '^lib/kafka/' },
      to: {
        path: [
          '@nestjs',
          'amqplib',
          'prom-client',
          '^lib/(rabbitmq|nest|health|metrics|shutdown)/',
        ],
      },
    },
    {
      name: 'nest-glue-not-imported-below',
      comment: 'Nothing under the Nest layer imports it.',
      severity: 'error',
      from: { path: '^lib/(core|telemetry|rabbitmq|kafka)/' },
      to: { path: NEST_LAYER },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
  },
};
