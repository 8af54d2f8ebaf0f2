// Paces a simulated source: every tick, as many messages as the rate allows since the last one.
// A token bucket holding at most one second's worth, so a stall (a slow write, a suspended
// laptop) is not followed by a burst.

export interface PacedControl {
  readonly stopping: boolean;
  /** Resolves after `ms`, or at once when stop() is called (for retry delays). */
  pause(ms: number): Promise<void>;
}

/** Handles `count` messages; false when it gave up because a stop was requested. */
export type PacedStep = (count: number, control: PacedControl) => Promise<boolean>;

export interface PacedLoop {
  /** Lets the step in hand finish (or give up), then resolves. */
  stop(): Promise<void>;
}

export function messagesDue(budget: number, rate: number, elapsedMs: number): { count: number; budget: number } {
  const filled = Math.min(budget + (rate * elapsedMs) / 1000, rate);
  const count = Math.floor(filled);
  return { count, budget: filled - count };
}

export function runPaced(rate: number, tickMs: number, step: PacedStep): PacedLoop {
  let stopping = false;
  let wake: () => void = () => {};
  const control: PacedControl = {
    get stopping() {
      return stopping;
    },
    pause: (ms) =>
      new Promise<void>((resolve) => {
        if (stopping) return resolve();
        const timer = setTimeout(resolve, ms);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      }),
  };
  const running = (async () => {
    let budget = 0;
    let last = performance.now();
    while (!stopping) {
      await control.pause(tickMs);
      if (stopping) break;
      const now = performance.now();
      const due = messagesDue(budget, rate, now - last);
      last = now;
      if (due.count === 0) {
        budget = due.budget;
        continue;
      }
      if (!(await step(due.count, control))) break;
      budget = due.budget;
    }
  })();
  return {
    async stop() {
      stopping = true;
      wake();
      await running;
    },
  };
}
