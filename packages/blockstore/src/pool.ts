/**
 * Runs `work(i)` for i = 0..count-1 with at most `concurrency` in flight, in index order of start.
 * Stops starting new work at the first failure (or abort) and rethrows it once all started work settled.
 */
export async function forEachIndex(
  count: number,
  concurrency: number,
  work: (i: number) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  let next = 0;
  let failure: { err: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < count) {
      if (signal?.aborted === true) {
        failure ??= { err: signal.reason };
        return;
      }
      const i = next++;
      try {
        await work(i);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, count)) }, worker));
  if (failure !== undefined) throw failure.err;
}
