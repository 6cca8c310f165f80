/**
 * `--help` for the bench and test scripts (`npm run bench:x -- --help`): prints the usage and exits
 * before anything runs, so asking for help never starts a long measurement.
 *
 * @example
 * ```ts
 * exitWithHelpIfAsked(`npm run bench:codec -- [--rounds 3] [--time-ms 250]\n…`);
 * ```
 */
export function exitWithHelpIfAsked(usage: string): void {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    console.log(usage.trim());
    process.exit(0);
  }
}
