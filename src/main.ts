import { serve } from './server.js';

serve().catch((error: unknown) => {
  process.stderr.write(
    `Runway failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
