import { Injectable } from '@nestjs/common';

/** What the sample app did, for `GET /stats` and the demo tour. */
@Injectable()
export class AppCounters {
  ordersPublished = 0;
  ordersConsumed = 0;
  ordersAudited = 0;
  eventsSent = 0;
  eventsConsumed = 0;
  transactionsCommitted = 0;
}
