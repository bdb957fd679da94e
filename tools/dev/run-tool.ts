import { inspect } from 'node:util';
import { ConfigError } from '../../src/config/config.js';
import { EmbeddedPostgresError } from './embedded-postgres.js';

/** A mistake in what the tool was given (a variable, an argument): its message says what to change. */
export class ToolError extends Error {}

/**
 * Runs a tool's `main` and exits with its code. A failure of the machine set-up (EmbeddedPostgresError) or of what the
 * tool was given (ToolError, the app's ConfigError) is its message, saying what to do; anything else is a bug,
 * printed with its stack and causes.
 */
export function runTool(name: string, main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      const told = [EmbeddedPostgresError, ToolError, ConfigError].some((kind) => error instanceof kind);
      const text = told ? (error as Error).message : inspect(error);
      process.stderr.write(`${name}: ${text}\n`);
      process.exit(1);
    },
  );
}
