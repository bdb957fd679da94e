import { pino, type DestinationStream } from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/config.js';
import { loggerParams } from './logging.js';

describe('log lines', () => {
  const params = () =>
    loggerParams(
      loadConfig({
        NODE_ENV: 'test',
        DATABASE_URL: 'postgres://runway@localhost:5432/runway',
        COGNITO_USER_POOL_ID: 'eu-west-1_AbCdEf123',
        COGNITO_CLIENT_ID: 'client-a',
      }),
    ) as {
      pinoHttp: {
        redact: { paths: string[]; censor: string };
        serializers: Record<string, (value: unknown) => unknown>;
      };
    };

  it('redact secrets on the line itself and one level down', () => {
    const lines: string[] = [];
    const destination: DestinationStream = { write: (line: string) => void lines.push(line) };
    const { pinoHttp } = params();
    const logger = pino({ redact: pinoHttp.redact }, destination);
    logger.info(
      {
        token: 'top-secret-1',
        err: { password: 'top-secret-2' },
        headers: { authorization: 'Bearer x.y.z' },
      },
      'a line',
    );
    const [line] = lines;
    expect(line).not.toMatch(/top-secret|x\.y\.z/);
    expect(JSON.parse(line!)).toMatchObject({
      token: '[redacted]',
      err: { password: '[redacted]' },
      headers: { authorization: '[redacted]' },
    });
  });

  it('log an error whose causes loop, the loop cut', () => {
    const lines: string[] = [];
    const destination: DestinationStream = { write: (line: string) => void lines.push(line) };
    const { pinoHttp } = params();
    const first = new Error('first');
    const second = new Error('second', { cause: first });
    first.cause = second;
    pino({ serializers: pinoHttp.serializers }, destination).error({ err: second }, 'a line');
    expect(JSON.parse(lines[0]!)).toMatchObject({
      err: { message: 'second', cause: { message: 'first', cause: '[Circular]' } },
    });
  });
});
