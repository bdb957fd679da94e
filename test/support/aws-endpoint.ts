import type {
  SendTaskFailureCommandInput,
  SendTaskHeartbeatCommandInput,
  SendTaskSuccessCommandInput,
} from '@aws-sdk/client-sfn';
import type { SendEmailCommandInput } from '@aws-sdk/client-sesv2';
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type AwsService = 'sfn' | 'sesv2';

/** The operations the endpoint answers, with the SDK's own input types. */
export interface OperationInputs {
  SendTaskSuccess: SendTaskSuccessCommandInput;
  SendTaskFailure: SendTaskFailureCommandInput;
  SendTaskHeartbeat: SendTaskHeartbeatCommandInput;
  SendEmail: SendEmailCommandInput;
}
export type Operation = keyof OperationInputs;

/** One request the endpoint received, whatever it answered. */
export interface AwsCall<Input = Record<string, unknown>> {
  service: AwsService;
  /** `SendTaskSuccess`, `SendEmail`…; for a request that names no known operation, its method and path. */
  operation: string;
  /** The JSON body as sent (`{}` when it was not JSON). */
  input: Input;
  /** The HTTP status answered. */
  status: number;
  /** The error type answered (`TaskTimedOut`, `ValidationException`…), when the status is not 200. */
  error?: string;
  /** From the SDK's `amz-sdk-invocation-id` and `amz-sdk-request` headers: the SDK's retries of one call share
   * `invocationId` and count `attempt` from 1. */
  invocationId?: string;
  attempt?: number;
  at: Date;
}
export type CallOf<Op extends Operation> = AwsCall<OperationInputs[Op]> & { operation: Op };

/** An error to answer instead of success. `type` defaults to `InternalFailure` for 5xx and `ThrottlingException`
 * for 429; other statuses need one. */
export interface ScriptedFailure {
  status: number;
  type?: string;
  message?: string;
}

/** A SendEmail the endpoint accepted, decoded from its `Content.Simple`. */
export interface SentEmail {
  from: string;
  to: string[];
  cc: string[];
  bcc: string[];
  subject: string;
  text?: string;
  html?: string;
}

export interface AwsEndpointOptions {
  region?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
}

type CallMatch = string | ((call: AwsCall) => boolean);

const SIGNING_NAMES: Record<AwsService, string> = { sfn: 'states', sesv2: 'ses' };
const SFN_TARGET_PREFIX = 'AWSStepFunctions.';
const SFN_CONTENT_TYPE = 'application/x-amz-json-1.0';
const SES_ROUTES: Record<string, string> = { 'POST /v2/email/outbound-emails': 'SendEmail' };
const MAX_TASK_OUTPUT_BYTES = 256 * 1024;
const MAX_RECIPIENTS = 50;
const STALL = Symbol('stall');

/** An error as AWS would answer it; the wire form depends on the service's protocol. */
class AwsError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A loopback endpoint that speaks Step Functions (AWS JSON 1.0) and SES v2 `SendEmail` (REST-JSON) to the real
 * AWS SDK clients: it checks the SigV4 signature and the inputs as AWS would, keeps every call, answers
 * scripted failures, and otherwise succeeds.
 */
export class AwsEndpoint {
  readonly calls: AwsCall[] = [];
  /** Scripted answers per operation, in order: an error, or `stall` (no answer at all). */
  private readonly failures = new Map<string, (AwsError | typeof STALL)[]>();
  private readonly server = createServer((request, response) => void this.receive(request, response));
  private readonly region: string;
  private readonly accessKeyId: string;
  private readonly secretAccessKey: string;

  constructor(options: AwsEndpointOptions = {}) {
    this.region = options.region ?? 'eu-west-1';
    this.accessKeyId = options.accessKeyId ?? 'AKIDRUNWAYTEST';
    this.secretAccessKey = options.secretAccessKey ?? 'runway-test-secret';
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  /** The SDK's standard variables that point `SFNClient` and `SESv2Client` at this endpoint. */
  env(): Record<string, string> {
    return {
      AWS_REGION: this.region,
      AWS_ACCESS_KEY_ID: this.accessKeyId,
      AWS_SECRET_ACCESS_KEY: this.secretAccessKey,
      AWS_ENDPOINT_URL_SFN: this.url,
      AWS_ENDPOINT_URL_SESV2: this.url,
    };
  }

  callsOf<Op extends Operation>(operation: Op): CallOf<Op>[] {
    return this.calls.filter((call) => call.operation === operation) as unknown as CallOf<Op>[];
  }

  /** The next `times` well-formed, signed calls of `operation` get `failure` (queued after earlier scripts). */
  failNext(operation: Operation, { status, type, message }: ScriptedFailure, times = 1): void {
    const errorType = type ?? defaultErrorType(status);
    const queue = this.failures.get(operation) ?? [];
    for (let i = 0; i < times; i++)
      queue.push(new AwsError(status, errorType, message ?? `scripted ${errorType}`));
    this.failures.set(operation, queue);
  }

  /** The next `times` well-formed, signed calls of `operation` are read and never answered (status stays 0). */
  stallNext(operation: Operation, times = 1): void {
    const queue = this.failures.get(operation) ?? [];
    for (let i = 0; i < times; i++) queue.push(STALL);
    this.failures.set(operation, queue);
  }

  /** Polls until at least `count` received calls match (an operation name or a predicate); resolves with them all. */
  waitFor<Op extends Operation>(match: Op, timeoutMs?: number, count?: number): Promise<CallOf<Op>[]>;
  waitFor(match: CallMatch, timeoutMs?: number, count?: number): Promise<AwsCall[]>;
  async waitFor(match: CallMatch, timeoutMs = 10_000, count = 1): Promise<AwsCall[]> {
    const matches = typeof match === 'string' ? (call: AwsCall) => call.operation === match : match;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.calls.filter(matches);
      if (found.length >= count) return found;
      if (Date.now() > deadline) {
        const seen = this.calls.map((call) => `${call.operation} ${call.status}`).join(', ') || 'none';
        throw new Error(
          `expected ${count} matching AWS call(s) within ${timeoutMs} ms, found ${found.length}; received: ${seen}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** Every SendEmail accepted (status 200), in order. */
  emails(): SentEmail[] {
    return this.callsOf('SendEmail')
      .filter((call) => call.status === 200)
      .map(({ input }) => decodeEmail(input));
  }

  reset(): void {
    this.calls.length = 0;
    this.failures.clear();
  }

  private async receive(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    const call = this.record(request, body);
    try {
      const result = this.answer(call, request, body);
      if (result === STALL) return;
      call.status = 200;
      respond(response, 200, call.service, result);
    } catch (error) {
      const refusal =
        error instanceof AwsError ? error : new AwsError(500, 'InternalFailure', (error as Error).message);
      call.status = refusal.status;
      call.error = refusal.type;
      respondWithError(response, call.service, refusal);
    }
  }

  private record(request: IncomingMessage, body: Buffer): AwsCall {
    const { service, operation } = route(request);
    const call: AwsCall = {
      service,
      operation,
      input: parseObject(body) ?? {},
      status: 0,
      at: new Date(),
      ...sdkAttempt(request.headers),
    };
    this.calls.push(call);
    return call;
  }

  private answer(
    call: AwsCall,
    request: IncomingMessage,
    body: Buffer,
  ): Record<string, unknown> | typeof STALL {
    this.verifySignature(request, body, SIGNING_NAMES[call.service]);
    if (call.service === 'sfn') checkSfnEnvelope(request);
    const input = parseObject(body);
    if (!input) throw malformedBody(call.service);
    validate(call.operation, input);
    const failure = this.failures.get(call.operation)?.shift();
    if (failure === STALL) return STALL;
    if (failure) throw failure;
    return call.operation === 'SendEmail'
      ? { MessageId: `0100${randomUUID().replaceAll('-', '')}-000000` }
      : {};
  }

  /** Checks the SigV4 credential scope and recomputes the signature with this endpoint's secret, as AWS does. */
  private verifySignature(request: IncomingMessage, body: Buffer, signingName: string): void {
    const signature = readSignature(request);
    const scope = signature.credential.split('/');
    const [accessKeyId, date, region, service, terminator] = scope;
    if (accessKeyId !== this.accessKeyId) {
      throw refused('UnrecognizedClientException', 'The security token included in the request is invalid.');
    }
    if (service !== signingName) {
      throw refused(
        'InvalidSignatureException',
        `Credential should be scoped to correct service: '${signingName}'.`,
      );
    }
    if (region !== this.region) {
      throw refused('InvalidSignatureException', 'Credential should be scoped to a valid region.');
    }
    if (date !== signature.amzDate.slice(0, 8) || terminator !== 'aws4_request') {
      throw refused(
        'InvalidSignatureException',
        'Credential should be scoped to <date>/<region>/<service>/aws4_request.',
      );
    }
    const declaredHash = header(request.headers, 'x-amz-content-sha256');
    if (declaredHash !== undefined && declaredHash !== sha256(body)) {
      throw refused('InvalidSignatureException', 'The x-amz-content-sha256 header does not match the body.');
    }
    const key = scope.slice(1).reduce(hmac, Buffer.from(`AWS4${this.secretAccessKey}`));
    const expected = hmac(key, stringToSign(request, body, signature, scope.slice(1).join('/'))).toString(
      'hex',
    );
    if (expected !== signature.signature) {
      throw refused(
        'InvalidSignatureException',
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
      );
    }
  }
}

/** An AWS endpoint on a random loopback port. */
export async function startAwsEndpoint(options?: AwsEndpointOptions): Promise<AwsEndpoint> {
  return new AwsEndpoint(options).listen();
}

function route(request: IncomingMessage): { service: AwsService; operation: string } {
  const target = header(request.headers, 'x-amz-target');
  if (target !== undefined) {
    return {
      service: 'sfn',
      operation: target.startsWith(SFN_TARGET_PREFIX) ? target.slice(SFN_TARGET_PREFIX.length) : target,
    };
  }
  const key = `${request.method} ${new URL(request.url ?? '/', 'http://local').pathname}`;
  return { service: 'sesv2', operation: SES_ROUTES[key] ?? key };
}

function sdkAttempt(headers: IncomingHttpHeaders): Pick<AwsCall, 'invocationId' | 'attempt'> {
  const attempt = /attempt=(\d+)/.exec(header(headers, 'amz-sdk-request') ?? '')?.[1];
  return {
    invocationId: header(headers, 'amz-sdk-invocation-id'),
    attempt: attempt === undefined ? undefined : Number(attempt),
  };
}

function checkSfnEnvelope(request: IncomingMessage): void {
  if (request.method !== 'POST' || new URL(request.url ?? '/', 'http://local').pathname !== '/') {
    throw new AwsError(
      404,
      'UnknownOperationException',
      `${request.method} ${request.url} is not an AWS JSON 1.0 call`,
    );
  }
  if (header(request.headers, 'content-type') !== SFN_CONTENT_TYPE) {
    throw new AwsError(400, 'SerializationException', `Content-Type must be ${SFN_CONTENT_TYPE}`);
  }
}

function malformedBody(service: AwsService): AwsError {
  return service === 'sfn'
    ? new AwsError(400, 'SerializationException', 'The request body is not a JSON object')
    : new AwsError(400, 'BadRequestException', 'The request body is not a JSON object');
}

function validate(operation: string, input: Record<string, unknown>): void {
  switch (operation) {
    case 'SendTaskSuccess':
      return validateTaskSuccess(input);
    case 'SendTaskFailure':
      requireString(input, 'taskToken', 1, 2048);
      optionalString(input, 'error', 256);
      return optionalString(input, 'cause', 32_768);
    case 'SendTaskHeartbeat':
      return requireString(input, 'taskToken', 1, 2048);
    case 'SendEmail':
      return validateEmail(input);
    default:
      throw new AwsError(
        400,
        'UnknownOperationException',
        `${operation} is not answered by the local AWS endpoint`,
      );
  }
}

function validateTaskSuccess(input: Record<string, unknown>): void {
  requireString(input, 'taskToken', 1, 2048);
  requireString(input, 'output', 0, Number.MAX_SAFE_INTEGER);
  const output = input.output as string;
  if (Buffer.byteLength(output) > MAX_TASK_OUTPUT_BYTES) {
    throw validationError('output', `Member must have length less than or equal to ${MAX_TASK_OUTPUT_BYTES}`);
  }
  try {
    JSON.parse(output);
  } catch {
    throw new AwsError(
      400,
      'InvalidOutput',
      `Invalid State Machine Output: '${output.slice(0, 100)}' is not JSON`,
    );
  }
}

function requireString(input: Record<string, unknown>, field: string, min: number, max: number): void {
  const value = input[field];
  if (value === undefined || value === null) throw validationError(field, 'Member must not be null');
  checkString(field, value, min, max);
}

function optionalString(input: Record<string, unknown>, field: string, max: number): void {
  const value = input[field];
  if (value !== undefined && value !== null) checkString(field, value, 0, max);
}

function checkString(field: string, value: unknown, min: number, max: number): void {
  if (typeof value !== 'string')
    throw new AwsError(400, 'SerializationException', `'${field}' must be a string`);
  if (value.length < min)
    throw validationError(field, `Member must have length greater than or equal to ${min}`);
  if (value.length > max)
    throw validationError(field, `Member must have length less than or equal to ${max}`);
}

function validationError(field: string, constraint: string): AwsError {
  return new AwsError(
    400,
    'ValidationException',
    `1 validation error detected: Value at '${field}' failed to satisfy constraint: ${constraint}`,
  );
}

function validateEmail(input: Record<string, unknown>): void {
  const badRequest = (message: string) => new AwsError(400, 'BadRequestException', message);
  if (!isAddress(input.FromEmailAddress)) throw badRequest('FromEmailAddress must be an email address');
  const destination = (input.Destination ?? {}) as Record<string, unknown>;
  const recipients = ['ToAddresses', 'CcAddresses', 'BccAddresses'].map((field) => destination[field] ?? []);
  if (!recipients.every((list) => Array.isArray(list) && list.every(isAddress))) {
    throw badRequest('Destination addresses must be lists of email addresses');
  }
  if ((recipients[0] as unknown[]).length === 0)
    throw badRequest('Destination.ToAddresses must not be empty');
  if (recipients.flat().length > MAX_RECIPIENTS)
    throw badRequest(`Recipient count exceeds ${MAX_RECIPIENTS}`);
  const content = (input.Content ?? {}) as Record<string, unknown>;
  if (!content.Simple)
    throw badRequest('Content.Simple is required (the local endpoint decodes no Raw or Template)');
  const { Subject, Body } = content.Simple as {
    Subject?: { Data?: unknown };
    Body?: Record<string, { Data?: unknown }>;
  };
  if (typeof Subject?.Data !== 'string' || Subject.Data === '')
    throw badRequest('Content.Simple.Subject.Data is required');
  const parts = [Body?.Text, Body?.Html].filter((part) => part !== undefined);
  if (parts.length === 0 || !parts.every((part) => typeof part.Data === 'string')) {
    throw badRequest('Content.Simple.Body needs Text or Html with Data');
  }
}

/** An address, bare or as `Name <address>`. */
function isAddress(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  const address = /<([^>]*)>\s*$/.exec(value)?.[1] ?? value;
  return /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/.test(address);
}

function decodeEmail(input: SendEmailCommandInput): SentEmail {
  const simple = input.Content!.Simple!;
  return {
    from: input.FromEmailAddress!,
    to: input.Destination?.ToAddresses ?? [],
    cc: input.Destination?.CcAddresses ?? [],
    bcc: input.Destination?.BccAddresses ?? [],
    subject: simple.Subject!.Data!,
    text: simple.Body?.Text?.Data,
    html: simple.Body?.Html?.Data,
  };
}

function defaultErrorType(status: number): string {
  if (status >= 500) return 'InternalFailure';
  if (status === 429) return 'ThrottlingException';
  throw new Error(`a scripted ${status} needs its error type`);
}

interface Sigv4 {
  credential: string;
  signedHeaders: string[];
  signature: string;
  amzDate: string;
}

function readSignature(request: IncomingMessage): Sigv4 {
  const authorization = request.headers.authorization;
  if (!authorization) throw refused('MissingAuthenticationTokenException', 'Missing Authentication Token');
  const match =
    /^AWS4-HMAC-SHA256 Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/.exec(
      authorization,
    );
  const amzDate = header(request.headers, 'x-amz-date');
  const signedHeaders = match?.[2]!.split(';') ?? [];
  if (!match || !amzDate || !signedHeaders.includes('host')) {
    throw refused('IncompleteSignatureException', `Malformed or incomplete SigV4: ${authorization}`);
  }
  return { credential: match[1]!, signedHeaders, signature: match[3]!, amzDate };
}

function refused(type: string, message: string): AwsError {
  return new AwsError(403, type, message);
}

function stringToSign(request: IncomingMessage, body: Buffer, signature: Sigv4, scope: string): string {
  const url = new URL(request.url ?? '/', 'http://local');
  const canonicalRequest = [
    request.method,
    url.pathname.split('/').map(encodeRfc3986).join('/'),
    canonicalQuery(url.searchParams),
    ...signature.signedHeaders.map(
      (name) => `${name}:${(header(request.headers, name) ?? '').trim().replace(/\s+/g, ' ')}`,
    ),
    '',
    signature.signedHeaders.join(';'),
    sha256(body),
  ].join('\n');
  return ['AWS4-HMAC-SHA256', signature.amzDate, scope, sha256(canonicalRequest)].join('\n');
}

function canonicalQuery(params: URLSearchParams): string {
  return [...params]
    .map(([key, value]) => `${encodeRfc3986(key)}=${encodeRfc3986(value)}`)
    .sort()
    .join('&');
}

function encodeRfc3986(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function hmac(key: Buffer, value: string): Buffer {
  return createHmac('sha256', key).update(value).digest();
}

function sha256(value: string | Buffer): string {
  return createHash('sha256').update(value).digest('hex');
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

function parseObject(body: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function respond(
  response: ServerResponse,
  status: number,
  service: AwsService,
  body: Record<string, unknown>,
): void {
  response
    .writeHead(status, {
      'content-type': service === 'sfn' ? SFN_CONTENT_TYPE : 'application/json',
      'x-amzn-requestid': randomUUID(),
    })
    .end(JSON.stringify(body));
}

/** AWS JSON 1.0 names the error in the body's `__type`; REST-JSON in the `x-amzn-ErrorType` header. */
function respondWithError(response: ServerResponse, service: AwsService, error: AwsError): void {
  if (service === 'sfn') {
    respond(response, error.status, service, {
      __type: `${sfnErrorNamespace(error.type)}#${error.type}`,
      message: error.message,
    });
    return;
  }
  response.setHeader('x-amzn-errortype', error.type);
  respond(response, error.status, service, { message: error.message });
}

/** The namespaces Step Functions answers with: the request layer's, the model validator's, or the service's. */
function sfnErrorNamespace(type: string): string {
  if (type === 'ValidationException') return 'com.amazon.coral.validate';
  if (/Exception$/.test(type)) return 'com.amazon.coral.service';
  return 'com.amazonaws.swf.service.v2.model';
}
