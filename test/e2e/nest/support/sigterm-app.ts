/**
 * A real app process for the SIGTERM test (run with `node --import tsx`, so every dependency uses
 * an explicit @Inject: esbuild emits no decorator metadata). It consumes QUEUE with a handler that
 * blocks until the parent sends "release" over IPC, and reports progress on stdout.
 */
import 'reflect-metadata';
import {
  Controller,
  Get,
  Inject,
  Injectable,
  Module,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import {
  type MqLogger,
  MqPoolModule,
  RabbitMqHealthIndicator,
  RabbitMqPool,
} from '../../../../lib/index.js';

const queue = process.env.QUEUE!;
const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

const logger: MqLogger = {
  debug: () => undefined,
  info: (message, fields) => say(`LOG ${message} ${JSON.stringify(fields ?? {})}`),
  warn: (message, fields) => say(`LOG ${message} ${JSON.stringify(fields ?? {})}`),
  error: (message, fields) => say(`LOG ${message} ${JSON.stringify(fields ?? {})}`),
};

@Injectable()
class BlockingConsumer implements OnApplicationBootstrap {
  constructor(@Inject(RabbitMqPool) private readonly pool: RabbitMqPool) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.pool.consume(queue, async (msg) => {
      say(`HANDLER ${msg.content.toString()}`);
      await new Promise<void>((resolve) => process.once('message', () => resolve()));
      say('HANDLER_DONE');
    });
  }
}

@Controller('health')
class HealthController {
  constructor(
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(RabbitMqHealthIndicator) private readonly rabbit: RabbitMqHealthIndicator,
  ) {}

  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([() => this.rabbit.isHealthy('rabbitmq', { timeoutMs: 1_000 })]);
  }
}

@Module({
  imports: [
    TerminusModule.forRoot({ logger: false }),
    MqPoolModule.forRoot({
      rabbitmq: { url: process.env.AMQP_URL! },
      metrics: { enabled: false },
      logger,
    }),
  ],
  controllers: [HealthController],
  providers: [BlockingConsumer],
})
class AppModule {}

const app = await NestFactory.create(AppModule, { logger: false });
app.enableShutdownHooks();
await app.listen(0, '127.0.0.1');
say(`READY ${(await app.getUrl()).replace('[::1]', '127.0.0.1')}`);
