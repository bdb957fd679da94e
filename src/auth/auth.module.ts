import { Module, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { retryWithBackoff } from '../retry.js';
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
    void retryWithBackoff(() => this.tokens.hydrate(), {
      signal: this.stopping.signal,
      maxDelayMs: MAX_RETRY_DELAY_MS,
      onFailure: (error, attempt) => this.logger.warn({ err: error, attempt }, 'cannot load JWKS; retrying'),
    });
  }

  onApplicationShutdown(): void {
    this.stopping.abort();
  }
}
