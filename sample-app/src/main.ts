import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';

const app = await NestFactory.create(AppModule);
// SIGTERM/SIGINT → readiness down, every pool drained within shutdown.drainTimeoutMs, drain report logged.
app.enableShutdownHooks();
const port = Number(process.env.PORT ?? 3000);
// Loopback unless told otherwise: a container sets HOST=0.0.0.0 so probes and Services reach it.
const host = process.env.HOST ?? '127.0.0.1';
await app.listen(port, host);
new Logger('SampleApp').log(`listening on http://${host}:${port}`);
