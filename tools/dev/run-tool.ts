import { EmbeddedPostgresError } from './embedded-postgres.js';

/**
 * Runs a tool's `main` and exits with its code. A failure of the machine set-up (EmbeddedPostgresError) is one
 * sentence saying what to do; anything else is a bug, printed with its stack.
 */
export function runTool(name: string, main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      const text =
        error instanceof EmbeddedPostgresError
          ? error.message
          : error instanceof Error
            ? (error.stack ?? error.message)
            : String(error);
      process.stderr.write(`${name}: ${text}\n`);
      process.exit(1);
    },
  );
}
