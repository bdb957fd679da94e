import { IdempotencyKey } from '../http/idempotency/idempotency-key.entity.js';
import { Project } from '../projects/project.entity.js';
import { User } from '../users/user.entity.js';

/** Every TypeORM entity of the app; a feature module adds its entities here. */
export const ENTITIES: (new () => object)[] = [User, Project, IdempotencyKey];
