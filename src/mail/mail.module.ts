import { Module } from '@nestjs/common';
import { Mailer } from './mailer.js';

/** Outgoing email (Amazon SES v2, or files locally). */
@Module({ providers: [Mailer], exports: [Mailer] })
export class MailModule {}
