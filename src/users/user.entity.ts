import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** A Runway user, created on their first authenticated request (just-in-time) and keyed by their Cognito `sub`. */
@Entity({ name: 'users' })
export class User {
  /** UUIDv7: time-ordered, so keyset pagination by id lists users by creation. */
  @PrimaryColumn('uuid')
  id: string;

  @Column({ name: 'cognito_sub', type: 'text', unique: true })
  cognitoSub: string;

  @Column({ type: 'text' })
  username: string;

  @Column({ type: 'text', nullable: true })
  email: string | null;

  /** When the token that brought `email` was issued: an older token, still valid, brings no older address back. */
  @Column({ name: 'email_issued_at', type: 'timestamptz', nullable: true })
  emailIssuedAt: Date | null;

  @Column({ name: 'display_name', type: 'text', nullable: true })
  displayName: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
