import { Module, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { setTimeout as sleep } from 'node:timers/promises';
import { UsersModule } from '../users/users.module.js';
import { AuthGuard } from './auth.guard.js';
import { TokenVerifier } from './token-verifier.js';

const MAX_RETRY_DELAY_MS = 30_000;

@Module({
  imports: [UsersModule],
  providers: [TokenVerifier, { provide: APP_GUARD, useClass: AuthGuard }],
  exports: [TokenVerifier],
})
export class AuthModule implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly stopping = new AbortController();

  constructor(
    private readonly tokens: TokenVerifier,
    @InjectPinoLogger(AuthModule.name) private readonly logger: PinoLogger,
  ) {}

  /** Loads the signing keys in the background (readiness is 503 until then), retrying with backoff. */
  onApplicationBootstrap(): void {
    void (async () => {
      for (let attempt = 1; !this.stopping.signal.aborted && !this.tokens.ready; attempt++) {
        try {
          await this.tokens.hydrate();
        } catch (error) {
          if (attempt === 1 || attempt % 10 === 0)
            this.logger.warn({ err: error, attempt }, 'cannot load JWKS; retrying');
          await sleep(Math.min(500 * 2 ** attempt, MAX_RETRY_DELAY_MS), undefined, {
            signal: this.stopping.signal,
          }).catch(() => undefined);
        }
      }
    })();
  }

  onApplicationShutdown(): void {
    this.stopping.abort();
  }
}
