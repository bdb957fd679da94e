import { Injectable } from '@nestjs/common';

/** The current time, as one injectable source: code that decides by the date asks it rather than `new Date()`. */
@Injectable()
export class Clock {
  now(): Date {
    return new Date();
  }
}
