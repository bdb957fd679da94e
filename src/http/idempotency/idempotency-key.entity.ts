import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/** A completed creating request, replayed when the same caller retries it with the same Idempotency-Key. */
@Entity({ name: 'idempotency_keys' })
export class IdempotencyKey {
  /** `user:<id>` or `machine:<sub>`: keys are scoped per caller… */
  @PrimaryColumn({ type: 'text' })
  principal: string;

  /** …and per route (`POST /v1/projects`). */
  @PrimaryColumn({ type: 'text' })
  route: string;

  @PrimaryColumn({ type: 'text' })
  key: string;

  /** SHA-256 of the request's URL and canonical body: the same key with another URL or body is a 422. */
  @Column({ name: 'request_hash', type: 'text' })
  requestHash: string;

  @Column({ name: 'response_status', type: 'int' })
  responseStatus: number;

  // json, not jsonb: a replay must return the very same bytes (jsonb reorders keys).
  @Column({ name: 'response_body', type: 'json', nullable: true })
  responseBody: unknown;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Index('ix_idempotency_keys_expires_at')
  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;
}
