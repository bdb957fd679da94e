import { connect } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestApp } from '../support/app.js';
import { user } from '../support/tokens.js';

/** Input at the edges: names JavaScript treats specially, text the database counts differently, broken Unicode. */
describe('input at the edges', () => {
  // Short, for the request that stalls below.
  const t = useTestApp({ env: { HTTP_REQUEST_TIMEOUT_MS: '1001' } }); // not a multiple of 4: Node's checks take integers
  const owner = user();
  const post = (body: string | object) =>
    t
      .http()
      .post('/v1/projects')
      .set('authorization', owner.authorization)
      .set('content-type', 'application/json')
      .send(body);
  const names = async () =>
    (await t.http().get('/v1/projects?limit=100').set('authorization', owner.authorization)).body.items.map(
      ({ name }: { name: string }) => name,
    ) as string[];

  it.each([
    'constructor',
    'toString',
    'valueOf',
    'hasOwnProperty',
    'isPrototypeOf',
    '__defineGetter__',
    '__lookupSetter__',
  ])('refuses an unknown field named %s like any other, with a pointer', async (field) => {
    const response = await post(`{"name": "proto-${field}", "${field}": 1}`);
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual(
      expect.arrayContaining([expect.objectContaining({ pointer: `/${field}` })]),
    );
    const query = await t.http().get(`/v1/projects?${field}=1`).set('authorization', owner.authorization);
    expect(query.status).toBe(400);
    expect(await names()).not.toContain(`proto-${field}`);
  });

  it('points at fields named like Object.prototype members among other errors too', async () => {
    const response = await post('{"name": "proto-mixed", "id": "x", "constructor": 1, "toString": 2}');
    expect(response.status).toBe(400);
    const pointers = (response.body.errors as { pointer: string }[]).map(({ pointer }) => pointer);
    expect(pointers).toEqual(expect.arrayContaining(['/id', '/constructor', '/toString']));
  });

  it('refuses a number too large to store rather than storing null', async () => {
    const response = await post('{"name": "huge", "description": "x", "count": 1e400}');
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([{ pointer: '/count', detail: expect.any(String) }]);
  });

  it('takes JSON in UTF-8 only, uncompressed: other bytes 400, another charset or a content coding 415, storing nothing', async () => {
    const send = (contentType: string, body: Buffer) =>
      t
        .http()
        .post('/v1/projects')
        .set('authorization', owner.authorization)
        .set('content-type', contentType)
        // As bytes: supertest would send a Buffer as JSON of its own.
        .serialize((bytes: Buffer) => bytes as unknown as string)
        .send(body);
    const latin1 = Buffer.from('{"name": "caf\u00e9 latin"}', 'latin1');
    const refused = [
      await send('application/json', latin1),
      // An overlong encoding of "/" and an encoded surrogate, which a lenient decoder turns into U+FFFD.
      await send('application/json', Buffer.from([...Buffer.from('{"name": "a'), 0xc0, 0xaf, 0x22, 0x7d])),
      await send(
        'application/json',
        Buffer.from([...Buffer.from('{"name": "b'), 0xed, 0xa0, 0x80, 0x22, 0x7d]),
      ),
      await send('application/json; charset=iso-8859-1', latin1),
      await send('application/json; charset="utf-16"', Buffer.from('{"name": "wide"}', 'utf16le')),
    ];
    refused.push(
      await t
        .http()
        .post('/v1/projects')
        .set('authorization', owner.authorization)
        .set('content-type', 'application/json')
        .set('content-encoding', 'gzip')
        .send('{"name": "not gzip"}'),
    );
    expect(refused.map(({ status }) => status)).toEqual([400, 400, 400, 415, 415, 415]);
    for (const response of refused)
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused[0]!.body.errors).toEqual([{ pointer: '', detail: 'The body is not valid UTF-8.' }]);
    expect(refused[5]!.headers['accept-encoding']).toBe('identity');
    const utf8 = await send('application/json; charset=UTF-8', Buffer.from('{"name": "caf\u00e9 utf-8"}'));
    expect(utf8.status).toBe(201);
    expect(utf8.body.name).toBe('caf\u00e9 utf-8');
    // An empty charset parameter is no charset.
    expect((await send('application/json; charset=', Buffer.from('{"name": "bare charset"}'))).status).toBe(
      201,
    );
    expect((await names()).filter((name) => /^(caf|a|b|wide)/.test(name))).toEqual([
      'bare charset',
      'caf\u00e9 utf-8',
    ]);
    expect(await names()).not.toContain('not gzip');
  });

  it.each(['[]', '[{"name": "in an array"}]', '42', '"name"', 'true'])(
    'refuses a body that is not a JSON object (%s) with one error at the whole document',
    async (body) => {
      const before = await names();
      for (const request of [
        post(body),
        t
          .http()
          .patch('/v1/me')
          .set('authorization', owner.authorization)
          .set('content-type', 'application/json')
          .send(body),
      ]) {
        const response = await request;
        expect(response.status).toBe(400);
        expect(response.body.errors).toEqual([{ pointer: '', detail: 'The body must be a JSON object.' }]);
      }
      expect(await names()).toEqual(before);
    },
  );

  it('refuses a JSON null body like a missing one', async () => {
    const created = await post({ name: 'null-body' });
    for (const path of ['/v1/me', `/v1/projects/${created.body.id}`]) {
      const response = await t
        .http()
        .patch(path)
        .set('authorization', owner.authorization)
        .set('content-type', 'application/json')
        .send('null');
      expect(response.status).toBe(400);
      expect(response.body.errors).toEqual([{ pointer: '', detail: expect.any(String) }]);
    }
  });

  it('lists at most 100 errors, and refuses a body of more than 10,000 members as a whole', async () => {
    const unknown = (count: number) =>
      Object.fromEntries([['name', 'many'], ...Array.from({ length: count }, (_, i) => [`k${i}`, 0])]);
    const listed = await post(unknown(150));
    expect(listed.status).toBe(400);
    expect(listed.body.errors).toHaveLength(100);
    const whole = await post(unknown(50_000));
    expect(whole.status).toBe(400);
    expect(whole.body.errors).toEqual([{ pointer: '', detail: 'The document has more than 10000 members.' }]);
    expect(await names()).not.toContain('many');
  });

  it('counts characters as the database does: 120 "❤️" (240 code points) are too long for a name', async () => {
    const response = await post({ name: '❤️'.repeat(120) });
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([expect.objectContaining({ pointer: '/name' })]);
  });

  it('accepts 120 characters outside the Basic Multilingual Plane, and stores them intact', async () => {
    const name = '😀'.repeat(120);
    const response = await post({ name });
    expect(response.status).toBe(201);
    expect(response.body.name).toBe(name);
    expect(await names()).toContain(name);
  });

  it.each([
    ['a value', '{"name": "lone \\ud800 surrogate"}', '/name'],
    ['a trailing one', '{"name": "ok", "description": "x\\udfff"}', '/description'],
    ['a field name', '{"name": "ok", "\\ud800": 1}', '/\ud800'],
  ])(
    'refuses a lone UTF-16 surrogate in %s with 400 and a pointer, storing nothing',
    async (_where, body, pointer) => {
      const before = await names();
      const response = await post(body);
      expect(response.status).toBe(400);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.body.errors).toEqual([expect.objectContaining({ pointer })]);
      expect(await names()).toEqual(before);
    },
  );

  describe('answered below Nest, by Fastify or Node', () => {
    let port: number;
    beforeAll(async () => {
      await t.app.listen(0, '127.0.0.1');
      port = Number(new URL(await t.app.getUrl()).port);
    });

    /** Sends raw bytes (then, unless `stall`, the end of the stream) and returns the status and body of the answer. */
    const raw = (request: string, stall = false) =>
      new Promise<{ head: string; status: number; contentType?: string; body: Record<string, unknown> }>(
        (resolve, reject) => {
          const socket = connect(port, '127.0.0.1', () =>
            stall ? socket.write(request) : socket.end(request),
          );
          let answer = '';
          socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
          socket.on('error', reject);
          socket.on('close', () => {
            const [head = '', body = ''] = answer.split('\r\n\r\n');
            resolve({
              head,
              status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]),
              contentType: /^content-type: (.*)$/im.exec(head)?.[1],
              body: JSON.parse(body) as Record<string, unknown>,
            });
          });
        },
      );

    it.each<[string, number, string, boolean?]>([
      [
        'a path parameter over the limit',
        414,
        `GET /v1/projects/${'a'.repeat(150)} HTTP/1.1\r\nHost: x\r\n\r\n`,
      ],
      ['a URL that does not decode', 400, 'GET /v1/projects/%zz HTTP/1.1\r\nHost: x\r\n\r\n'],
      [
        'headers over the limit',
        431,
        `GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      ],
      ['malformed HTTP', 400, 'NOT HTTP AT ALL\r\n\r\n'],
      ['an HTTP/1.1 request without a Host header', 400, 'GET /health/live HTTP/1.1\r\n\r\n'],
      ['two Host headers', 400, 'GET /health/live HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n'],
      ['two hosts in one Host header', 400, 'GET /health/live HTTP/1.1\r\nHost: a, b\r\n\r\n'],
      ['a Host with a path', 400, 'GET /health/live HTTP/1.1\r\nHost: a/b?c\r\n\r\n'],
      ['a Host whose port is no number', 400, 'GET /health/live HTTP/1.1\r\nHost: x:notaport\r\n\r\n'],
      ['a Host with an unclosed IP literal', 400, 'GET /health/live HTTP/1.1\r\nHost: [::1\r\n\r\n'],
      ['CONNECT', 405, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n'],
      [
        'an Expect it cannot meet',
        417,
        'POST /v1/projects HTTP/1.1\r\nHost: x\r\nExpect: bogus\r\nContent-Length: 0\r\n\r\n',
      ],
      [
        'a body that stops arriving',
        408,
        'POST /v1/projects HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{',
        true,
      ],
    ])('%s → %i application/problem+json', async (_what, status, request, stall) => {
      const started = Date.now();
      const answer = await raw(request, stall);
      expect(answer.status).toBe(status);
      expect(answer.contentType).toMatch(/^application\/problem\+json/);
      expect(answer.body).toMatchObject({
        status,
        title: expect.any(String),
        type: 'about:blank',
        detail: expect.any(String),
      });
      // The app's limit (1 s here) is the one applied, not Node's 60 s for headers: a wide margin, not a speed check.
      if (stall) expect(Date.now() - started).toBeLessThan(30_000);
      // A request that had begun keeps its id, in the body and the header, as its log line has it.
      if (stall) {
        expect(answer.body.requestId).toEqual(expect.any(String));
        expect(answer.body.requestId).toBe(/^x-request-id: (.*)$/im.exec(answer.head)?.[1]);
      }
    });

    it('gives an answer made before any route runs the request id and headers of every answer', async () => {
      for (const request of [
        'POST /v1/projects HTTP/1.1\r\nHost: x\r\nExpect: bogus\r\nX-Request-Id: expect-1\r\nContent-Length: 0\r\n\r\n',
        'GET /v1/projects/%zz HTTP/1.1\r\nHost: x\r\nX-Request-Id: bad-url-1\r\n\r\n',
        `GET /v1/projects/${'a'.repeat(150)} HTTP/1.1\r\nHost: x\r\nX-Request-Id: long-param-1\r\n\r\n`,
      ]) {
        const { head, body } = await raw(request);
        const requestId = /^x-request-id: (.*)$/im.exec(head)?.[1];
        expect(requestId).toMatch(/^(expect|bad-url|long-param)-1$/);
        expect(body.requestId).toBe(requestId);
        expect(body.instance).toMatch(/^\/v1\/projects/);
        expect(head).toMatch(/^x-content-type-options: nosniff$/im);
        expect(head).toMatch(/^cache-control: no-store$/im);
      }
    });

    it('gives an answer Node writes before any request is read the request id and headers of every answer', async () => {
      for (const request of [
        `GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
        'NOT HTTP AT ALL\r\n\r\n',
        'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n',
      ]) {
        const { head, body } = await raw(request);
        const requestId = /^x-request-id: (.*)$/im.exec(head)?.[1];
        expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
        expect(body.requestId).toBe(requestId);
        expect(head).toMatch(/^x-content-type-options: nosniff$/im);
        expect(head).toMatch(/^cache-control: no-store$/im);
        expect(head).toMatch(/^date: /im);
      }
      const connect = await raw('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
      expect(/^allow: (.*)$/im.exec(connect.head)?.[1]).toBe('GET, HEAD, POST, PATCH, DELETE');
    });

    it('answers the request before an unparsable one on the same connection as its own, then closes it', async () => {
      const name = `pipelined-${Date.now()}`;
      const json = JSON.stringify({ name });
      const post =
        `POST /v1/projects HTTP/1.1\r\nHost: x\r\nAuthorization: ${owner.authorization}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}`;
      const answer = await new Promise<string>((resolve, reject) => {
        // Not ended: a client that half-closes has its requests under way dropped by Node.
        const socket = connect(port, '127.0.0.1', () => socket.write(`${post}NOT HTTP AT ALL\r\n\r\n`));
        let text = '';
        socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
        socket.on('error', reject);
        socket.on('close', () => resolve(text));
      });
      const statuses = [...answer.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((match) => Number(match[1]));
      expect(statuses).toEqual([201]);
      expect(await names()).toContain(name);
    });

    it.each([
      'api.example.com',
      'api.example.com:443',
      '127.0.0.1:3000',
      '[::1]:3000',
      'xn--bcher-kva.example',
    ])('serves a request whose Host is %s', async (host) => {
      expect((await raw(`GET /health/live HTTP/1.1\r\nHost: ${host}\r\n\r\n`)).status).toBe(200);
    });

    it('serves an HTTP/1.0 request without a Host header, which that version does not require', async () => {
      const answer = await raw('GET /health/live HTTP/1.0\r\n\r\n');
      expect(answer.status).toBe(200);
    });
  });
});
