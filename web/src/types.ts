/**
 * The shapes of the API answers the back office reads: those of openapi.json, as the typed client generates them, so
 * that a change of the API that the pages do not follow fails `npm run typecheck`. Dates are `YYYY-MM-DD`.
 */
import type { components } from '../../packages/client/src/schema.js';

type Schemas = components['schemas'];

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export type Compared = Schemas['ComparedDto'];
export type EventUse = Schemas['EventUseDto'];
export type Summary = Schemas['SummaryDto'];
export type ActiveUsers = Schemas['ActiveUsersDto'];
export type EventDays = Schemas['EventDaysDto'];
export type Funnel = Schemas['FunnelDto'];
export type Retention = Schemas['RetentionDto'];
export type Lifecycle = Schemas['LifecycleDto'];
export type Task = Schemas['TaskDto'];
export type TaskStatus = Task['status'];
export const TASK_STATUSES: TaskStatus[] = ['open', 'approved', 'rejected', 'cancelled', 'expired'];
export type AdminUser = Schemas['AdminUserDto'];
export type UserActivity = Schemas['UserActivityDto'];
export type AuditEntry = Schemas['AuditEntryDto'];

/** As many event names as the events report gives (its `limit` at most): the pages list them all. */
export const EVENTS_REPORTED = 1000;
