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
  private olderDigested?: Promise<void>;

  constructor(
    private readonly tasks: TasksRepository,
    private readonly secrets: TaskSecrets,
    private readonly db: Database,
  ) {}

  digest(token: string): Buffer {
    return this.secrets.tokenDigest(token);
  }

  async madeFor(digest: Buffer): Promise<TaskRow | undefined> {
    // Outside the caller's transaction: a request that then fails must not roll back digests this process makes once.
    this.olderDigested ??= this.db
      .outsideTransaction(() => this.digestOlder())
      .catch((error: unknown) => {
        this.olderDigested = undefined;
        throw error;
      });
    await this.olderDigested;
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
