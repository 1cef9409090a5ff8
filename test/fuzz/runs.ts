/**
 * Fuzz budget: FUZZ_RUNS cases per property (default 10,000, the CI budget).
 * Long run: `npm run fuzz` (FUZZ_RUNS=1000000 MEMORY_TOKENS=1000000, see SECURITY.md).
 * FUZZ_SEED replays a failure fast-check reported.
 */
export const RUNS = Math.max(1, Number(process.env.FUZZ_RUNS ?? 10_000));
export const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
/** fast-check parameters for a property run with the budget (e2e properties pass their own, smaller, count). */
export function params(numRuns = RUNS): { numRuns: number; seed?: number } {
  return SEED === undefined ? { numRuns } : { numRuns, seed: SEED };
}
