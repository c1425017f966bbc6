import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';

const app = await NestFactory.create(AppModule);
// SIGTERM/SIGINT → readiness down, every pool drained within shutdown.drainTimeoutMs, drain report logged.
app.enableShutdownHooks();
const port = Number(process.env.PORT ?? 3000);
await app.listen(port, '127.0.0.1');
new Logger('SampleApp').log(`listening on http://127.0.0.1:${port}`);
