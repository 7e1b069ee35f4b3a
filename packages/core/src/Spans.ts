/**
 * Span options shared by brick's programs. Spans name each program and step
 * and carry only non-secret attributes (portal, IQN, LUN, iface, device);
 * they skip capturing a stack trace, which costs more than the step itself
 * on a fast host.
 */
import type { Tracer } from "effect"

/** Trace options for brick's spans: no stack trace capture. */
export const noStack: Tracer.TraceOptions = { captureStackTrace: false }
