import { Inject, Injectable } from '@nestjs/common';
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '../config/config.js';

/** What an emailed link grants: deciding one task, as one recipient, until it expires, once. */
export interface LinkClaims {
  linkId: string;
  taskId: string;
  recipient: string;
  expiresAt: Date;
}

const FIELD_BYTES = 36;
const MAC_BYTES = 16;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * The two secrets of manual tasks: the HMAC key that signs emailed links (TASK_LINK_SECRET) and the key that encrypts
 * Step Functions task tokens at rest (TASK_TOKEN_KEY, AES-256-GCM).
 */
@Injectable()
export class TaskSecrets {
  private readonly linkKey: Buffer;
  private readonly tokenKey: Buffer;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.linkKey = Buffer.from(config.tasks.linkSecret);
    this.tokenKey = createHash('sha256').update(config.tasks.tokenKey).digest();
  }

  /**
   * 70 URL-safe characters (a path segment stays under the router's 100-character limit): link id, task id and expiry,
   * then an HMAC (truncated to 128 bits) over them and the recipient, whom the stored link names.
   */
  signLink(claims: LinkClaims): string {
    const fields = linkFields(claims.linkId, claims.taskId, claims.expiresAt);
    return Buffer.concat([fields, this.mac(fields, claims.recipient)]).toString('base64url');
  }

  /** The claims a token makes, not yet verified (see {@link isSigned}); undefined when it is not one of ours. */
  readLink(token: string): Omit<LinkClaims, 'recipient'> | undefined {
    if (!/^[A-Za-z0-9_-]{70}$/.test(token)) return undefined;
    const bytes = Buffer.from(token, 'base64url');
    // Decoding ignores the last character's 4 low bits: a link has one spelling, the one it was sent with.
    if (bytes.toString('base64url') !== token) return undefined;
    return {
      linkId: uuidOf(bytes.subarray(0, 16)),
      taskId: uuidOf(bytes.subarray(16, 32)),
      expiresAt: new Date(bytes.readUInt32BE(32) * 1000),
    };
  }

  /** True when `token` was signed for exactly these claims. */
  isSigned(token: string, claims: LinkClaims): boolean {
    const bytes = Buffer.from(token, 'base64url');
    const expected = this.mac(linkFields(claims.linkId, claims.taskId, claims.expiresAt), claims.recipient);
    return timingSafeEqual(bytes.subarray(FIELD_BYTES), expected);
  }

  /** The same for the same token (under the same TASK_TOKEN_KEY), unlike its encryption: how a token is recognised. */
  tokenDigest(token: string): Buffer {
    return createHmac('sha256', this.tokenKey).update('task-token\0').update(token).digest();
  }

  encryptToken(token: string): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.tokenKey, iv);
    const encrypted = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), encrypted]);
  }

  decryptToken(stored: Buffer): string {
    const decipher = createDecipheriv('aes-256-gcm', this.tokenKey, stored.subarray(0, IV_BYTES));
    decipher.setAuthTag(stored.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(stored.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString(
      'utf8',
    );
  }

  private mac(fields: Buffer, recipient: string): Buffer {
    return createHmac('sha256', this.linkKey)
      .update(fields)
      .update(recipient)
      .digest()
      .subarray(0, MAC_BYTES);
  }
}

function linkFields(linkId: string, taskId: string, expiresAt: Date): Buffer {
  const fields = Buffer.alloc(FIELD_BYTES);
  Buffer.from(linkId.replaceAll('-', ''), 'hex').copy(fields, 0);
  Buffer.from(taskId.replaceAll('-', ''), 'hex').copy(fields, 16);
  fields.writeUInt32BE(Math.floor(expiresAt.getTime() / 1000), 32);
  return fields;
}

function uuidOf(bytes: Buffer): string {
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
