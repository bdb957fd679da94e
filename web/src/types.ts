/** The shapes of the API answers the back office reads (see openapi.json). Dates are `YYYY-MM-DD`. */

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface Compared {
  value: number;
  previous: number;
  change: number | null;
}

export interface EventUse {
  name: string;
  count: number;
  users: number;
  previousCount: number;
  change: number | null;
}

export interface Summary {
  timezone: string;
  period: { from: string; to: string };
  previousPeriod: { from: string; to: string };
  activeUsers: Compared;
  newUsers: Compared;
  stickiness: Compared;
  lastCohortRetention: { cohortStart: string; size: number; retained: number; rate: number };
  growingEvents: EventUse[];
  tasks: { open: number; overdue: number; medianSecondsToDecision: number | null };
}

export interface ActiveUsers {
  timezone: string;
  days: { date: string; dau: number; wau: number; mau: number; stickiness: number }[];
}

export interface EventDays {
  name: string;
  days: { date: string; count: number; users: number }[];
}

export interface Funnel {
  steps: { name: string; users: number; conversion: number; dropOff: number }[];
}

export interface Retention {
  cohorts: { start: string; size: number; retained: number[] }[];
}

export interface Lifecycle {
  periods: { start: string; new: number; returning: number; resurrecting: number; dormant: number }[];
}

export type TaskStatus = 'open' | 'approved' | 'rejected' | 'cancelled' | 'expired';
export const TASK_STATUSES: TaskStatus[] = ['open', 'approved', 'rejected', 'cancelled', 'expired'];

export interface Task {
  id: string;
  type: string;
  title: string;
  description: string;
  payload: Record<string, unknown>;
  status: TaskStatus;
  subjectUserId: string | null;
  assignee: string | null;
  dueAt: string;
  expiresAt: string | null;
  createdBy: { kind: string; id: string };
  decision: {
    outcome: string;
    comment: string | null;
    decidedBy: string;
    decidedAt: string;
    via: string;
  } | null;
  callback: { status: string; reason: string | null } | null;
  createdAt: string;
  updatedAt: string;
  version: number;
}

export interface AdminUser {
  id: string;
  username: string;
  email: string | null;
  displayName: string | null;
  createdAt: string;
}

export interface UserActivity {
  userId: string;
  days: string[];
  events: { name: string; occurredAt: string; properties: Record<string, unknown> }[];
}

export interface AuditEntry {
  id: string;
  at: string;
  actor: { kind: string; id: string };
  action: string;
  target: { type: string; id: string };
  via: string;
  details: Record<string, unknown>;
}
