/** The error a promise rejects with; throws (failing the test) if it resolves. */
export async function rejectionOf(
  p: Promise<unknown>,
): Promise<Error & { code?: string; hint?: string; details?: Record<string, unknown> }> {
  return p.then(
    () => {
      throw new Error('expected the operation to fail, and it succeeded');
    },
    (e: unknown) => e as Error & { code?: string; hint?: string; details?: Record<string, unknown> },
  );
}
