import { parseArgs, type ParseArgsConfig } from 'node:util';

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

/**
 * `parseArgs` for a bench script: a mistyped option or a missing value prints what was wrong and
 * how to ask for the options, and exits 2, rather than a stack trace.
 *
 * @example
 * ```ts
 * const { values } = parseBenchArgs({ options: { rounds: { type: 'string', default: '3' } } }, 'npm run bench:x -- --help');
 * ```
 */
export function parseBenchArgs<T extends ParseArgsConfig>(config: T, helpCommand: string): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    if (typeof (error as { code?: unknown }).code === 'string' && (error as { code: string }).code.startsWith('ERR_PARSE_ARGS_')) {
      console.error(`${(error as Error).message}\nThe options: ${helpCommand}`);
      process.exit(2);
    }
    throw error;
  }
}
