// How the commands end, for the schedulers and orchestrators that run them (README, "Exit codes").

/** Exit codes of the commands (the README's "Exit codes"). */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  /** The run completed, but left streams or accounts incomplete (and --allow-partial was not given). */
  partial: 3,
} as const;

/** What a completed read or load exits with: partial when something could not be read. */
export function completedExitCode(summary: { readonly incomplete: ReadonlyMap<string, readonly string[]>; readonly failedAccounts: ReadonlyMap<string, string> }, allowPartial: boolean): number {
  const partial = summary.incomplete.size > 0 || summary.failedAccounts.size > 0;
  return partial && !allowPartial ? EXIT.partial : EXIT.ok;
}
