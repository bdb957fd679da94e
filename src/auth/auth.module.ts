import {
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type Type,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { retryWithBackoff } from '../utils/retry.js';
import { AuthGuard } from './auth.guard.js';
import { RateLimitGuard } from './rate-limit.guard.js';
import { TokenVerifier } from './token-verifier.js';
import { UserProvisioning } from './user-provisioning.js';

const MAX_RETRY_DELAY_MS = 30_000;
/** How often the signing keys are fetched again, so that a key removed from the JWKS stops verifying tokens. */
const KEYS_REFRESH_MS = 10 * 60_000;

@Module({})
export class AuthModule implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly stopping = new AbortController();
  private refreshing?: NodeJS.Timeout;

  constructor(
    private readonly tokens: TokenVerifier,
    @InjectPinoLogger(AuthModule.name) private readonly logger: PinoLogger,
  ) {}

  /** The global guard and the token verifier; `users` provides {@link UserProvisioning} from its module. */
  static register(users: { module: Type; provisioning: Type<UserProvisioning> }): DynamicModule {
    return {
      module: AuthModule,
      global: true,
      imports: [users.module],
      providers: [
        TokenVerifier,
        { provide: UserProvisioning, useExisting: users.provisioning },
        // Guards run in this order: who is calling, then how often they may.
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_GUARD, useClass: RateLimitGuard },
      ],
      // UserProvisioning for DeletedUserInterceptor, which sits on the write routes of every module.
      exports: [TokenVerifier, UserProvisioning],
    };
  }

  /** Loads the signing keys in the background (readiness is 503 until then), retrying with backoff. */
  onApplicationBootstrap(): void {
    void retryWithBackoff(() => this.tokens.hydrate(), {
      signal: this.stopping.signal,
      maxDelayMs: MAX_RETRY_DELAY_MS,
      onFailure: (error, attempt) => this.logger.warn({ err: error, attempt }, 'cannot load JWKS; retrying'),
    });
    this.refreshing = setInterval(() => {
      this.tokens
        .refreshKeys()
        .catch((error: unknown) => this.logger.warn({ err: error }, 'cannot refresh JWKS'));
    }, KEYS_REFRESH_MS).unref();
  }

  onApplicationShutdown(): void {
    this.stopping.abort();
    clearInterval(this.refreshing);
  }
}
