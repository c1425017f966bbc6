import { ConfigurableModuleBuilder } from '@nestjs/common';
import {
  DEFAULT_MODULE_OPTIONS,
  type MqPoolModuleExtras,
  type MqPoolModuleOptions,
} from './mq-pool-module-options.js';
import { DEFAULT_POOL_NAME } from './mq-pool.constants.js';
import { MQ_POOL_RAW_OPTIONS } from './mq-pool.internal-constants.js';
import { buildRegistration } from './registration.providers.js';

export const {
  ConfigurableModuleClass: MqPoolConfigurableModule,
  OPTIONS_TYPE: MQ_POOL_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: MQ_POOL_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<MqPoolFactoryOptions>({
  optionsInjectionToken: MQ_POOL_RAW_OPTIONS,
})
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createMqPoolOptions')
  .setExtras<MqPoolModuleExtras>(
    {
      name: DEFAULT_POOL_NAME,
      isGlobal: false,
      httpBackpressure: DEFAULT_MODULE_OPTIONS.httpBackpressure,
    },
    buildRegistration,
  )
  .build();

/** Options of `MqPoolModule.forRoot()`: `MqPoolModuleOptions` plus `isGlobal`. */
export type MqPoolForRootOptions = typeof MQ_POOL_OPTIONS_TYPE;

/**
 * Options of `MqPoolModule.forRootAsync()`: `imports`, `inject`, and one of `useFactory`,
 * `useClass`, `useExisting` (a class implementing `MqPoolOptionsFactory`), plus the static
 * `name`, `isGlobal` and `httpBackpressure`.
 */
export type MqPoolForRootAsyncOptions = typeof MQ_POOL_ASYNC_OPTIONS_TYPE;

/**
 * What an async factory returns: the options minus the static `httpBackpressure` (it decides which
 * providers exist, so it must be known before the factory runs).
 */
export type MqPoolFactoryOptions = Omit<MqPoolModuleOptions, 'httpBackpressure'>;

/** For `forRootAsync({ useClass | useExisting })`. */
export interface MqPoolOptionsFactory {
  createMqPoolOptions(): MqPoolFactoryOptions | Promise<MqPoolFactoryOptions>;
}
