import {
  HttpException,
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import { Observable } from 'rxjs';

const tracer = trace.getTracer('runway');

/**
 * A span around each Nest handler (`ProjectsController.get`), child of the HTTP server span and parent of the SQL
 * it runs. OpenTelemetry's NestJS instrumentation does not support Nest 12; this is its one useful span.
 */
@Injectable()
export class HandlerSpanInterceptor implements NestInterceptor {
  intercept(execution: ExecutionContext, next: CallHandler): Observable<unknown> {
    // An unsampled request records nothing: no span, no context switch.
    if (!trace.getActiveSpan()?.isRecording()) return next.handle();
    const name = `${execution.getClass().name}.${execution.getHandler().name}`;
    return new Observable((subscriber) => {
      const span = tracer.startSpan(name, { attributes: { 'code.function.name': name } });
      // The handler runs on subscription: subscribe inside the span's context so its queries become children.
      const subscription = context.with(trace.setSpan(context.active(), span), () =>
        next.handle().subscribe({
          next: (value) => subscriber.next(value),
          error: (error: unknown) => {
            // A 4xx is the handler's answer, not its failure. The exception itself is recorded once, on the
            // request's span, by the problem filter.
            if (!(error instanceof HttpException && error.getStatus() < 500)) {
              span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error | undefined)?.message });
            }
            span.end();
            subscriber.error(error);
          },
          complete: () => {
            span.end();
            subscriber.complete();
          },
        }),
      );
      return () => subscription.unsubscribe();
    });
  }
}
