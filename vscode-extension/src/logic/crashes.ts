/**
 * When to restart a server that exited on its own: up to `max` times within `windowMs`, then
 * stop and tell the user, so a server that dies at start does not loop forever. Pure.
 */
export class CrashWindow {
  private times: number[] = [];

  constructor(
    readonly windowMs = 3 * 60_000,
    readonly max = 3,
  ) {}

  /** Records an exit at `now`; true when the server should be restarted. */
  record(now: number): boolean {
    this.times = this.times.filter((t) => now - t < this.windowMs);
    this.times.push(now);
    return this.times.length <= this.max;
  }

  /** Exits within the window, as of the last `record`. */
  get count(): number {
    return this.times.length;
  }

  /** A restart by the user starts a fresh window. */
  reset(): void {
    this.times = [];
  }
}
