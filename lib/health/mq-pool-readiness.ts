/**
 * Readiness of the application's pools, one per app. The shutdown hooks flip it down before the
 * drain starts, so readiness probes fail (and the load balancer stops routing) while in-flight
 * work finishes. Liveness never reads it: a draining process is alive.
 */
export class MqPoolReadiness {
  private shuttingDown = false;

  get ready(): boolean {
    return !this.shuttingDown;
  }

  markShuttingDown(): void {
    this.shuttingDown = true;
  }
}
