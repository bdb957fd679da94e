import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Stage {
  name: string;
  copies: { from?: string; sources: string[]; destination: string }[];
  runs: string[];
  cmd?: string[];
}

/** The Dockerfile's stages (of `root`'s Dockerfile), read from the file itself so that nothing can drift from it. */
export function readStages(root: string): Stage[] {
  const lines = readFileSync(join(root, 'Dockerfile'), 'utf8')
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of lines) {
    const [instruction, ...rest] = line.split(/\s+/);
    if (instruction === 'FROM')
      stages.push({ name: rest[2] ?? `stage-${stages.length}`, copies: [], runs: [] });
    const stage = stages.at(-1);
    if (!stage) continue;
    if (instruction === 'RUN') stage.runs.push(rest.join(' '));
    if (instruction === 'CMD') stage.cmd = JSON.parse(rest.join(' ')) as string[];
    if (instruction === 'COPY') {
      const args = rest.filter((arg) => !arg.startsWith('--chown'));
      const from = args[0]?.startsWith('--from=') ? args.shift()!.slice('--from='.length) : undefined;
      stage.copies.push({ from, sources: args.slice(0, -1), destination: args.at(-1)! });
    }
  }
  return stages;
}

/** The flags the image gives `node` before the app's script (its last stage's `CMD ["node", …flags, script]`). */
export function imageNodeFlags(root: string): string[] {
  const cmd = readStages(root).at(-1)?.cmd;
  if (cmd?.[0] !== 'node') throw new Error('Dockerfile: expected the runtime stage to run CMD ["node", …]');
  return cmd.slice(1, -1);
}
