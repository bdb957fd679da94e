import { Injectable } from '@nestjs/common';

/** Set when the process starts shutting down: readiness fails so the load balancer stops sending traffic. */
@Injectable()
export class DrainState {
  draining = false;
}
