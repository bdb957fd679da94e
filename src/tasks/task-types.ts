import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import type { FieldError } from '../http/validation.js';

export const TASK_STATUSES = ['open', 'approved', 'rejected', 'cancelled', 'expired'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
export type TaskOutcome = Exclude<TaskStatus, 'open'>;
export type OperatorOutcome = Extract<TaskOutcome, 'approved' | 'rejected'>;

/** A task as its type's handlers see it. */
export interface TaskOfType<Payload> {
  id: string;
  type: string;
  title: string;
  payload: Payload;
  subjectUserId: string | null;
  createdAt: Date;
}

/**
 * A kind of manual work: what its payload must hold, what happens once it is decided, and (once the work is
 * automated) how it decides by itself. The endpoints never change when a type does.
 */
export interface TaskType<Payload extends object = Record<string, unknown>> {
  /** `project.review` */
  name: string;
  /** The payload's shape; the API answers 400 with pointers under /payload when it does not match. */
  payload: z.ZodType<Payload>;
  /** Time to decide when the creator gives no dueAt; 24 h by default. */
  dueWithinHours?: number;
  /** Runs inside the transaction that decides the task (any terminal outcome): both commit, or neither. */
  onDecided?(task: TaskOfType<Payload>, outcome: TaskOutcome): Promise<void>;
  /**
   * Automation: runs as a job after the task is created (again if that job is interrupted, so it should change
   * nothing itself); a decision returned here is recorded as the system's, and nobody is emailed. Return undefined to
   * leave the task to a person: people are emailed once.
   */
  decide?(task: TaskOfType<Payload>): Promise<{ outcome: OperatorOutcome; comment?: string } | undefined>;
}

/** The one registry of task types: features define theirs at module init, like jobs. */
@Injectable()
export class TaskTypes {
  private readonly types = new Map<string, TaskType>();

  constructor() {
    this.define({ name: 'approval', payload: z.record(z.string(), z.unknown()) });
  }

  define<Payload extends object>(type: TaskType<Payload>): void {
    if (this.types.has(type.name)) throw new Error(`task type ${type.name} is defined twice`);
    this.types.set(type.name, type as unknown as TaskType);
  }

  get(name: string): TaskType | undefined {
    return this.types.get(name);
  }

  get names(): string[] {
    return [...this.types.keys()];
  }
}

/** The payload's problems as field errors under `/payload`. */
export function payloadErrors(type: TaskType, payload: unknown): FieldError[] {
  const result = type.payload.safeParse(payload);
  if (result.success) return [];
  return result.error.issues.map((issue) => ({
    pointer: [
      '/payload',
      ...issue.path.map((key) => String(key).replaceAll('~', '~0').replaceAll('/', '~1')),
    ].join('/'),
    detail: issue.message,
  }));
}
