import { Injectable } from '@nestjs/common';
import { Database } from '../database/database.js';
import { TaskSecrets } from './task-secrets.js';
import { TasksRepository, type TaskRow } from './tasks.repository.js';

/**
 * Which task a Step Functions token made: tokens are stored encrypted with a random IV, so tasks are found by a keyed
 * digest of theirs. Tasks made before digests existed get theirs the first time a token is looked up in a process.
 */
@Injectable()
export class TaskTokens {
  private olderDigested = false;

  constructor(
    private readonly tasks: TasksRepository,
    private readonly secrets: TaskSecrets,
    private readonly db: Database,
  ) {}

  digest(token: string): Buffer {
    return this.secrets.tokenDigest(token);
  }

  async madeFor(digest: Buffer): Promise<TaskRow | undefined> {
    if (!this.olderDigested) {
      // In the caller's transaction (no connection of its own, which a burst of such requests could leave none of),
      // and done only once that commits: a request that fails afterwards leaves it to the next lookup.
      await this.digestOlder();
      await this.db.afterCommit(() => void (this.olderDigested = true));
    }
    return this.tasks.withToken(digest);
  }

  private async digestOlder(): Promise<void> {
    for (const { id, token } of await this.tasks.withoutTokenDigest()) {
      let digest: Buffer;
      try {
        digest = this.digest(this.secrets.decryptToken(token));
      } catch {
        continue; // encrypted under another TASK_TOKEN_KEY: nothing to compare it with
      }
      await this.tasks.setTokenDigest(id, digest);
    }
  }
}
