import { Inject, Injectable } from '@nestjs/common';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import { randomUUID } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { AWS_REQUEST_HANDLER } from '../utils/aws.js';

export interface Email {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/**
 * Sends email through Amazon SES v2 (MAIL_TRANSPORT=ses; the SDK's own settings: AWS_REGION, AWS_ENDPOINT_URL_SESV2,
 * credentials), or writes each one as an .eml file in MAIL_DIRECTORY (MAIL_TRANSPORT=file, for development and tests).
 */
@Injectable()
export class Mailer {
  private ses?: SESv2Client;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /** Where a file transport writes; undefined when email goes through SES. */
  get directory(): string | undefined {
    return this.config.mail.transport === 'file' ? resolve(this.config.mail.directory) : undefined;
  }

  async send(email: Email): Promise<void> {
    if (this.config.mail.transport === 'file') return this.writeFile(email);
    // The SDK is loaded on first use: most processes never send an email.
    const { SESv2Client, SendEmailCommand } = await import('@aws-sdk/client-sesv2');
    this.ses ??= new SESv2Client({ requestHandler: AWS_REQUEST_HANDLER });
    await this.ses.send(
      new SendEmailCommand({
        FromEmailAddress: this.config.mail.from,
        Destination: { ToAddresses: [email.to] },
        Content: {
          Simple: {
            Subject: { Data: email.subject, Charset: 'UTF-8' },
            Body: {
              Text: { Data: email.text, Charset: 'UTF-8' },
              Html: { Data: email.html, Charset: 'UTF-8' },
            },
          },
        },
      }),
    );
  }

  private async writeFile(email: Email): Promise<void> {
    const directory = this.directory!;
    await mkdir(directory, { recursive: true });
    const boundary = `runway-${randomUUID()}`;
    const message = [
      `From: ${this.config.mail.from}`,
      `To: ${email.to}`,
      `Subject: ${encodeHeader(email.subject)}`,
      `Date: ${new Date().toUTCString()}`,
      'MIME-Version: 1.0',
      `Content-Type: multipart/alternative; boundary="${boundary}"`,
      '',
      `--${boundary}`,
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: base64',
      '',
      base64Lines(email.text),
      `--${boundary}`,
      'Content-Type: text/html; charset=utf-8',
      'Content-Transfer-Encoding: base64',
      '',
      base64Lines(email.html),
      `--${boundary}--`,
      '',
    ].join('\r\n');
    const name = `${new Date().toISOString().replaceAll(':', '-')}-${randomUUID()}.eml`;
    // Written under a hidden name, then renamed: whoever watches the folder never opens half an email.
    const partial = join(directory, `.${name}.partial`);
    await writeFile(partial, message);
    await rename(partial, join(directory, name));
  }
}

/** Bytes of UTF-8 an encoded-word carries: 60 characters of base64, the word 72 of the 75 RFC 2047 allows. */
const WORD_BYTES = 45;

/**
 * A subject that is not plain ASCII as RFC 2047 encoded-words, each of whole characters, one a line (folded): a mail
 * client decodes a word alone, and a line may not exceed 998 bytes.
 */
function encodeHeader(value: string): string {
  if (/^[\x20-\x7e]*$/.test(value)) return value;
  const words = [''];
  for (const character of value) {
    if (Buffer.byteLength(words.at(-1)! + character) > WORD_BYTES) words.push('');
    words[words.length - 1] += character;
  }
  return words.map((word) => `=?UTF-8?B?${Buffer.from(word).toString('base64')}?=`).join('\r\n ');
}

/** A body as base64 in lines of 76 characters (RFC 2045): 8-bit text may not pass and lines have a limit. */
function base64Lines(text: string): string {
  return Buffer.from(text)
    .toString('base64')
    .replace(/.{76}(?=.)/g, '$&\r\n');
}
