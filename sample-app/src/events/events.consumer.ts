import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { KafkaPool } from 'nestjs-mq-pool';
import { AppCounters } from '../app-counters.js';
import { EVENTS_GROUP, EVENTS_TOPIC } from '../sample-config.js';

/** A managed consumer group: started after boot, stopped (commit, leave group) on shutdown. */
@Injectable()
export class EventsConsumer implements OnApplicationBootstrap {
  constructor(
    private readonly kafka: KafkaPool,
    private readonly counters: AppCounters,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.kafka.consume({
      groupId: EVENTS_GROUP,
      topics: [EVENTS_TOPIC],
      fromBeginning: true,
      eachMessage: async () => {
        this.counters.eventsConsumed++;
      },
    });
  }
}
