/**
 * `--compare <git-ref>`: that commit checked out in a temporary `git worktree`, built there with its own
 * `npm run build` against the current node_modules (symlinked), so its dist/src/main.js can be measured.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RefBuild {
  /** The ref as given, e.g. `ceee5f2`. */
  ref: string;
  commit: string;
  /** The worktree, e.g. to read that commit's Dockerfile. */
  root: string;
  mainScript: string;
  /** Removes the worktree; safe to call more than once. */
  remove(): void;
}

export function buildRef(ref: string, repoRoot: string): RefBuild {
  const git = (...args: string[]) =>
    execFileSync('git', args, {
      cwd: repoRoot,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    }).trim();
  let commit: string;
  try {
    commit = git('rev-parse', '--verify', '--quiet', `${ref}^{commit}`);
  } catch {
    throw new Error(`--compare ${ref}: not a commit of this repository`);
  }
  const parent = mkdtempSync(join(tmpdir(), 'runway-bench-ref-'));
  const worktree = join(parent, 'runway');
  const nodeModulesLink = join(worktree, 'node_modules');
  let removed = false;
  const remove = () => {
    if (removed) return;
    removed = true;
    process.off('SIGINT', removeAndExit).off('SIGTERM', removeAndExit);
    // The link first, so that nothing below can reach the real node_modules.
    rmSync(nodeModulesLink, { force: true });
    try {
      git('worktree', 'remove', '--force', worktree);
    } catch {
      // Never added (`worktree add` failed): nothing for git to forget.
    }
    rmSync(parent, { recursive: true, force: true });
  };
  const removeAndExit = () => {
    remove();
    process.exit(130);
  };
  process.once('SIGINT', removeAndExit).once('SIGTERM', removeAndExit);
  try {
    process.stderr.write(`Building ${ref} (${commit.slice(0, 12)}) in ${worktree}\n`);
    git('worktree', 'add', '--detach', worktree, commit);
    symlinkSync(join(repoRoot, 'node_modules'), nodeModulesLink, 'dir');
    // Its own build script: the layout of src/ and the build differ between commits. Output goes to stderr.
    execFileSync('npm', ['run', 'build'], { cwd: worktree, stdio: ['ignore', 2, 2] });
  } catch (error) {
    remove();
    throw error;
  }
  return { ref, commit, root: worktree, mainScript: join(worktree, 'dist', 'src', 'main.js'), remove };
}
