import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
  Unique,
  UpdateDateColumn,
} from 'typeorm';
import { User } from '../users/user.entity.js';

export const PROJECT_STATUSES = ['active', 'archived'] as const;
export type ProjectStatus = (typeof PROJECT_STATUSES)[number];

/** The sample resource: owned by one user, who alone sees it. Replace it with your own domain. */
@Entity({ name: 'projects' })
@Unique('uq_projects_owner_name', ['ownerId', 'name'])
@Index('ix_projects_owner_id_id', ['ownerId', 'id'])
@Check('ck_projects_status', `status IN ('active', 'archived')`)
export class Project {
  /** UUIDv7: time-ordered, so "newest first" is "id descending" and the list paginates on the primary key. */
  @PrimaryColumn('uuid')
  id: string;

  @Column({ name: 'owner_id', type: 'uuid' })
  ownerId: string;

  /** Deleting a user deletes their projects. */
  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'owner_id', foreignKeyConstraintName: 'fk_projects_owner' })
  owner?: User;

  @Column({ type: 'varchar', length: 120 })
  name: string;

  @Column({ type: 'varchar', length: 2000, default: '' })
  description: string;

  @Column({ type: 'varchar', length: 16, default: 'active' })
  status: ProjectStatus;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;

  /** Optimistic concurrency: every write does `version = version + 1 … WHERE version = <If-Match>`. */
  @Column({ type: 'int', default: 1 })
  version: number;
}
