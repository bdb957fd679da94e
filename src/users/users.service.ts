import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import type { AuthenticatedUser, Principal } from '../auth/principal.js';
import { decodeCursor, toPage, type Page } from '../http/pagination.js';
import { ProblemException } from '../http/problem.js';
import type { AdminUserDto, ListUsersQuery, MeDto, UpdateMeDto } from './users.dto.js';
import { User } from './user.entity.js';
import { BusinessMetrics } from '../telemetry/business-metrics.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PROVISIONED_TTL_MS = 5 * 60_000;
const PROVISIONED_MAX_ENTRIES = 10_000;

@Injectable()
export class UsersService {
  /**
   * Cognito sub → users.id of users known to exist, so provisioning costs no query on most requests. Another
   * instance may delete a user; entries therefore expire after a few minutes.
   */
  private readonly provisioned = new Map<string, { userId: string; until: number }>();

  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly metrics: BusinessMetrics,
  ) {}

  /** Just-in-time provisioning: the user's row, created on their first request. Safe under concurrency. */
  async provision(principal: Principal): Promise<string> {
    const known = this.provisioned.get(principal.sub);
    if (known && known.until > Date.now()) return known.userId;

    const inserted: { id: string }[] = await this.users.query(
      `INSERT INTO users (id, cognito_sub, username, email) VALUES ($1, $2, $3, $4)
       ON CONFLICT (cognito_sub) DO NOTHING RETURNING id`,
      [uuidv7(), principal.sub, principal.username ?? principal.sub, principal.email ?? null],
    );
    if (inserted[0]) this.metrics.usersProvisioned.add(1);
    const userId =
      inserted[0]?.id ??
      (await this.users.findOne({ select: { id: true }, where: { cognitoSub: principal.sub } }))?.id;
    if (!userId) {
      // Deleted between the insert attempt and this read (DELETE /v1/me racing a first request).
      throw new ProblemException(409, {
        detail: 'The user is being changed; retry.',
        headers: { 'retry-after': '1' },
      });
    }
    if (this.provisioned.size >= PROVISIONED_MAX_ENTRIES) this.provisioned.clear();
    this.provisioned.set(principal.sub, { userId, until: Date.now() + PROVISIONED_TTL_MS });
    return userId;
  }

  async me(caller: AuthenticatedUser): Promise<MeDto> {
    return toMe(await this.findOwn(caller), caller);
  }

  async updateMe(caller: AuthenticatedUser, changes: UpdateMeDto): Promise<MeDto> {
    if (changes.displayName !== undefined) {
      await this.users.update({ id: caller.userId }, { displayName: changes.displayName });
    }
    return this.me(caller);
  }

  /** Removes the user's row and, through foreign keys, everything they own in Runway. */
  async deleteMe(caller: AuthenticatedUser): Promise<void> {
    await this.users.delete({ id: caller.userId });
    this.provisioned.delete(caller.sub);
  }

  async list(query: ListUsersQuery): Promise<Page<AdminUserDto>> {
    const builder = this.users
      .createQueryBuilder('user')
      .orderBy('user.id', 'DESC')
      .limit(query.limit + 1);
    if (query.cursor) {
      builder.andWhere('user.id < :after', { after: decodeCursor(query.cursor, { after: UUID }).after });
    }
    if (query.q) {
      const prefix = `${query.q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      builder.andWhere('(lower(user.username) LIKE :prefix OR lower(user.email) LIKE :prefix)', { prefix });
    }
    return toPage(await builder.getMany(), query.limit, toAdminUser, (user) => ({ after: user.id }));
  }

  private async findOwn(
    caller: AuthenticatedUser,
  ): Promise<Pick<User, 'id' | 'username' | 'displayName' | 'createdAt'>> {
    // Plain SQL on the hot path: the query builder and entity mapping cost more than the query.
    const [row] = await this.users.query<UserRow[]>(
      'SELECT id, username, display_name, created_at FROM users WHERE id = $1',
      [caller.userId],
    );
    const user = row && {
      id: row.id,
      username: row.username,
      displayName: row.display_name,
      createdAt: row.created_at,
    };
    if (!user) {
      // Deleted (perhaps through another instance) since this instance provisioned it.
      this.provisioned.delete(caller.sub);
      throw new ProblemException(404, { detail: 'The user no longer exists.' });
    }
    return user;
  }
}

interface UserRow {
  id: string;
  username: string;
  display_name: string | null;
  created_at: Date;
}

function toMe(user: Pick<User, 'id' | 'username' | 'displayName' | 'createdAt'>, caller: Principal): MeDto {
  return {
    id: user.id,
    username: user.username,
    ...(caller.email ? { email: caller.email } : {}),
    displayName: user.displayName,
    groups: [...caller.groups],
    createdAt: user.createdAt.toISOString(),
  };
}

function toAdminUser(user: User): AdminUserDto {
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    displayName: user.displayName,
    createdAt: user.createdAt.toISOString(),
  };
}
