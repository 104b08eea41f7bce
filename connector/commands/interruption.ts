// SIGINT and SIGTERM stop a run at the next page: `read` prints the state of what it printed,
// `load` commits what it read, and a re-run continues from there. A second signal ends the
// process at once (the last commit, or the last STATE printed, still holds).

const SIGNAL_NUMBERS: Readonly<Record<'SIGINT' | 'SIGTERM', number>> = { SIGINT: 2, SIGTERM: 15 };

export class Interruption {
  private readonly controller = new AbortController();
  /** The signal that asked the run to stop, once one did. */
  received: 'SIGINT' | 'SIGTERM' | undefined;
  private readonly handlers = new Map<'SIGINT' | 'SIGTERM', () => void>();

  /** Aborted at the first signal. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Listens for the signals until `dispose`; `onFirst` is told of the first (to say what happens). */
  install(onFirst: (signal: 'SIGINT' | 'SIGTERM') => void): this {
    for (const name of ['SIGINT', 'SIGTERM'] as const) {
      const handler = () => {
        if (this.received) process.exit(128 + SIGNAL_NUMBERS[name]);
        this.received = name;
        onFirst(name);
        this.controller.abort();
      };
      this.handlers.set(name, handler);
      process.on(name, handler);
    }
    return this;
  }

  dispose(): void {
    for (const [name, handler] of this.handlers) process.off(name, handler);
    this.handlers.clear();
  }

  /** The exit code of a run stopped by a signal, as shells report it: 130 for SIGINT, 143 for SIGTERM. */
  get exitCode(): number | undefined {
    return this.received ? 128 + SIGNAL_NUMBERS[this.received] : undefined;
  }
}
