import { Injectable } from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';
import { Transactions } from '../database/transactions.js';
import { ifMatchVersions } from '../http/etag.js';
import { decodeCursor, toPage, type Page } from '../http/pagination.js';
import { ProblemException } from '../http/problem.js';
import type { CreateProjectDto, ListProjectsQuery, ProjectDto, UpdateProjectDto } from './projects.dto.js';
import { BusinessMetrics } from '../telemetry/business-metrics.js';

interface ProjectRow {
  id: string;
  name: string;
  description: string;
  status: ProjectDto['status'];
  created_at: Date;
  updated_at: Date;
  version: number;
}

const COLUMNS = 'id, name, description, status, created_at, updated_at, version';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const UNIQUE_VIOLATION = '23505';

/**
 * Projects of one owner. Plain SQL through the request's transaction manager: one statement per operation, every
 * statement filtered by owner (another user's project is "not found"), writes conditional on the version.
 */
@Injectable()
export class ProjectsService {
  constructor(
    private readonly transactions: Transactions,
    private readonly metrics: BusinessMetrics,
  ) {}

  async create(ownerId: string, input: CreateProjectDto): Promise<ProjectDto> {
    const rows = await this.write<ProjectRow[]>(
      `INSERT INTO projects (id, owner_id, name, description, status) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
      [uuidv7(), ownerId, input.name, input.description ?? '', input.status ?? 'active'],
    );
    this.metrics.projectsCreated.add(1);
    return toDto(rows[0]!);
  }

  async list(ownerId: string, query: ListProjectsQuery): Promise<Page<ProjectDto>> {
    const parameters: unknown[] = [ownerId, query.limit + 1];
    let where = 'owner_id = $1';
    if (query.status) where += ` AND status = $${parameters.push(query.status)}`;
    if (query.cursor)
      where += ` AND id < $${parameters.push(decodeCursor(query.cursor, { before: UUID }).before)}`;
    const rows = await this.transactions.manager.query<ProjectRow[]>(
      `SELECT ${COLUMNS} FROM projects WHERE ${where} ORDER BY id DESC LIMIT $2`,
      parameters,
    );
    return toPage(rows, query.limit, toDto, (row) => ({ before: row.id }));
  }

  async get(ownerId: string, id: string): Promise<ProjectDto> {
    const rows = await this.transactions.manager.query<ProjectRow[]>(
      `SELECT ${COLUMNS} FROM projects WHERE id = $1 AND owner_id = $2`,
      [id, ownerId],
    );
    if (!rows[0]) throw notFound();
    return toDto(rows[0]);
  }

  async update(
    ownerId: string,
    id: string,
    changes: UpdateProjectDto,
    ifMatch?: string,
  ): Promise<ProjectDto> {
    const parameters: unknown[] = [id, ownerId];
    const assignments = (['name', 'description', 'status'] as const)
      .filter((field) => changes[field] !== undefined)
      .map((field) => `${field} = $${parameters.push(changes[field])}`);
    if (assignments.length === 0) return this.checked(ownerId, id, ifMatch);
    const rows = await this.write<[ProjectRow[], number]>(
      `UPDATE projects SET ${assignments.join(', ')}, version = version + 1, updated_at = now()
       WHERE id = $1 AND owner_id = $2 ${this.versionCondition(ifMatch, parameters)} RETURNING ${COLUMNS}`,
      parameters,
    );
    const updated = rows[0][0];
    if (!updated) return this.failedPrecondition(ownerId, id);
    return toDto(updated);
  }

  async remove(ownerId: string, id: string, ifMatch?: string): Promise<void> {
    const parameters: unknown[] = [id, ownerId];
    const [, deleted] = await this.write<[unknown, number]>(
      `DELETE FROM projects WHERE id = $1 AND owner_id = $2 ${this.versionCondition(ifMatch, parameters)}`,
      parameters,
    );
    if (deleted === 0) await this.failedPrecondition(ownerId, id);
  }

  /** `AND version = ANY(…)` for an If-Match header; nothing when absent or `*`. */
  private versionCondition(ifMatch: string | undefined, parameters: unknown[]): string {
    const versions = ifMatchVersions(ifMatch);
    if (versions === undefined || versions === 'any') return '';
    return `AND version = ANY($${parameters.push(versions)}::int[])`;
  }

  /** A write that matched no row: the project is not the caller's (404) or the If-Match was stale (412). */
  private async failedPrecondition(ownerId: string, id: string): Promise<never> {
    await this.get(ownerId, id);
    throw new ProblemException(412, {
      detail: 'The project has changed since that version; fetch it again.',
    });
  }

  /** An empty PATCH still honours If-Match. */
  private async checked(ownerId: string, id: string, ifMatch?: string): Promise<ProjectDto> {
    const project = await this.get(ownerId, id);
    const versions = ifMatchVersions(ifMatch);
    if (Array.isArray(versions) && !versions.includes(project.version))
      return this.failedPrecondition(ownerId, id);
    return project;
  }

  private async write<T>(sql: string, parameters: unknown[]): Promise<T> {
    try {
      return await this.transactions.manager.query<T>(sql, parameters);
    } catch (error) {
      const code = (error as { driverError?: { code?: string } }).driverError?.code;
      if (code === UNIQUE_VIOLATION) {
        throw new ProblemException(409, { detail: 'You already have a project with this name.' });
      }
      throw error;
    }
  }
}

function notFound(): ProblemException {
  return new ProblemException(404, { detail: 'No such project.' });
}

function toDto(row: ProjectRow): ProjectDto {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    status: row.status,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    version: row.version,
  };
}
