// Bounded waits instead of sleeps: poll until a probe gives an answer, or fail naming what was awaited.

/**
 * Polls `probe` until it returns something other than undefined or false, for at most
 * `timeoutMs`; a probe that throws counts as not yet (its last error is in the timeout's message).
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  { timeoutMs = 20_000, intervalMs = 100 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value as T;
    } catch (error) {
      last = error;
    }
    if (Date.now() >= deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ""}`);
    }
    await Bun.sleep(intervalMs);
  }
}
