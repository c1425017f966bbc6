import { Injectable } from '@nestjs/common';
import { KafkaSubscribe, type KafkaMessageContext } from 'nestjs-mq-pool';
import { AppCounters } from '../app-counters.js';
import { EVENTS_GROUP, EVENTS_TOPIC } from '../sample-config.js';

interface SampleEvent {
  id: string;
  type: string;
  payload: unknown;
}

/**
 * A managed consumer group, declared: joined after boot (readiness down until it has), stopped on
 * shutdown (handlers finish, offsets committed, group left). A record whose handler still fails
 * after 3 attempts goes to `sample-events.dlq` with the error and its source in the headers, and
 * the offset moves on.
 */
@Injectable()
export class EventsHandler {
  constructor(private readonly counters: AppCounters) {}

  @KafkaSubscribe({
    topics: EVENTS_TOPIC,
    groupId: EVENTS_GROUP,
    fromBeginning: true,
    retry: { attempts: 3, delayMs: 500 },
  })
  async on(_event: SampleEvent, _context: KafkaMessageContext): Promise<void> {
    this.counters.eventsConsumed++;
  }
}
