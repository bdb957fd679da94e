import { Injectable } from '@nestjs/common';
import type { Counter } from '@opentelemetry/api';
import { v7 as uuidv7 } from 'uuid';
import { AnalyticsService } from '../analytics/analytics.service.js';
import { isSynthetic, type AuthenticatedUser } from '../auth/principal.js';
import { Database } from '../database/database.js';
import type { ExpectedVersion } from '../database/versioning.js';
import { decodeCursor, toPage, type Page } from '../http/pagination.js';
import { unchangedIfMatches, versionedWrite, type VersionedResource } from '../http/preconditions.js';
import { conflictOnDuplicate, notFound } from '../http/problem.js';
import { isUuid } from '../http/validation.js';
import { BusinessMetrics } from '../telemetry/business-metrics.js';
import { toJson } from '../utils/json.js';
import type { CreateProjectDto, ListProjectsQuery, ProjectDto, UpdateProjectDto } from './projects.dto.js';
import { ProjectsRepository, type ProjectRow } from './projects.repository.js';

const DUPLICATES = { uq_projects_owner_name: 'You already have a project with this name.' };

/** Projects of one owner: another user's project is "not found"; writes honour If-Match. */
@Injectable()
export class ProjectsService {
  private readonly created: Counter;
  private readonly removalListeners: ((projectId: string, by: AuthenticatedUser) => Promise<void>)[] = [];

  constructor(
    private readonly db: Database,
    private readonly projects: ProjectsRepository,
    private readonly analytics: AnalyticsService,
    metrics: BusinessMetrics,
  ) {
    this.created = metrics.counter('runway.projects.created', 'Projects created', '{project}');
  }

  async create(owner: AuthenticatedUser, input: CreateProjectDto): Promise<ProjectDto> {
    const row = await conflictOnDuplicate(DUPLICATES, () =>
      this.projects.insert({
        id: uuidv7(),
        ownerId: owner.userId,
        name: input.name,
        description: input.description ?? '',
        status: input.status ?? 'active',
      }),
    );
    if (!isSynthetic(owner)) {
      this.created.add(1);
      await this.analytics.track(owner.userId, 'project.created');
    }
    return toJson(row);
  }

  /** Like `get`, and in a transaction neither the project nor its owner can be deleted until it ends. */
  async getAndHold(ownerId: string, id: string): Promise<ProjectDto> {
    const row = await this.projects.findAndHold(ownerId, id);
    if (!row) throw notFound('project');
    return toJson(row);
  }

  async list(ownerId: string, query: ListProjectsQuery): Promise<Page<ProjectDto>> {
    const rows = await this.projects.list(ownerId, {
      limit: query.limit + 1,
      afterId: query.cursor === undefined ? undefined : decodeCursor(query.cursor, isUuid),
      status: query.status,
    });
    return toPage(rows, query.limit, toJson, (row) => row.id);
  }

  async get(ownerId: string, id: string): Promise<ProjectDto> {
    const row = await this.projects.find(ownerId, id);
    if (!row) throw notFound('project');
    return toJson(row);
  }

  async update(
    ownerId: string,
    id: string,
    changes: UpdateProjectDto,
    expected: ExpectedVersion,
  ): Promise<ProjectDto> {
    const project = this.resource(ownerId, id);
    if (Object.values(changes).every((value) => value === undefined)) {
      return toJson(await unchangedIfMatches(project, expected));
    }
    const row = await conflictOnDuplicate(DUPLICATES, () =>
      versionedWrite(project, () => this.projects.update(ownerId, id, changes, expected)),
    );
    return toJson(row);
  }

  /**
   * Lets a feature built on projects act in the transaction that deletes one, before the row goes (and the
   * feature's rows about it with it, through foreign keys). The project is locked first: a transaction that holds it
   * (`getAndHold`) has committed, and none can take it until the deletion ends.
   */
  onRemove(listener: (projectId: string, by: AuthenticatedUser) => Promise<void>): void {
    this.removalListeners.push(listener);
  }

  async remove(owner: AuthenticatedUser, id: string, expected: ExpectedVersion): Promise<void> {
    const ownerId = owner.userId;
    await this.db.transaction(async () => {
      if (this.removalListeners.length > 0) {
        if (!(await this.projects.lockForDeletion(ownerId, id))) throw notFound('project');
        for (const listener of this.removalListeners) await listener(id, owner);
      }
      await versionedWrite(this.resource(ownerId, id), async () =>
        (await this.projects.delete(ownerId, id, expected)) ? true : undefined,
      );
    });
  }

  private resource(ownerId: string, id: string): VersionedResource<ProjectRow> {
    return { name: 'project', find: () => this.projects.find(ownerId, id) };
  }
}
