import type { IncomingMessage } from 'node:http';
import { isSpanContextValid, trace, type SpanContext } from '@opentelemetry/api';

/** The active trace id, if a span (recorded or not) is active. */
export function activeTraceId(): string | undefined {
  const spanContext = trace.getActiveSpan()?.spanContext();
  return spanContext && isSpanContextValid(spanContext) ? spanContext.traceId : undefined;
}

/**
 * Fields every log line written inside a span carries. With X-Ray ids the trace id's first 8 hex digits are its
 * epoch seconds, so the X-Ray form `1-<8 hex>-<24 hex>` lets CloudWatch Logs and X-Ray find each other.
 */
export function traceLogFields(xrayTraceIds: boolean): Record<string, string> {
  const spanContext = trace.getActiveSpan()?.spanContext();
  if (!spanContext || !isSpanContextValid(spanContext)) return {};
  const { traceId, spanId, traceFlags } = spanContext;
  return {
    trace_id: traceId,
    span_id: spanId,
    trace_flags: `0${traceFlags.toString(16)}`,
    ...(xrayTraceIds && { xray_trace_id: `1-${traceId.slice(0, 8)}-${traceId.slice(8)}` }),
  };
}

const TRACE_ID = Symbol('runway.traceId');

/** Kept on Node's request for what answers it outside its context (Node's timeout of a body that stopped arriving). */
export function rememberTraceId(request: IncomingMessage, spanContext: SpanContext): void {
  if (isSpanContextValid(spanContext))
    (request as IncomingMessage & { [TRACE_ID]?: string })[TRACE_ID] = spanContext.traceId;
}

export function rememberedTraceId(request: IncomingMessage): string | undefined {
  return (request as IncomingMessage & { [TRACE_ID]?: string })[TRACE_ID];
}
