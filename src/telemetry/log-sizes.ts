/**
 * The log output's sizes, apart from log-output.ts so the config tables can
 * state the range of `logging.buffer_bytes` without loading pino.
 */

/**
 * Bytes buffered before one write(2). Measured under wrk (50 connections, one
 * access line per request): an unbuffered destination handed every line to its
 * own write and cost ~33 µs of CPU per request, a third of the whole proxy.
 * Each asynchronous write is also a hop to the thread pool: with 4 KiB batches
 * the asynchronous output cost ~1 µs more CPU per line than the synchronous one
 * it replaced, with 12 KiB ~0.5 µs (20 lines per event-loop turn, drained
 * pipe). sonic-boom requires it below its 16 KiB maxWrite.
 */
export const LOG_BATCH_BYTES = 12288;

/** Default of `logging.buffer_bytes`: 4 MiB holds ~16,000 access lines, several seconds of a busy sidecar. */
export const DEFAULT_LOG_BUFFER_BYTES = 4 * 1024 * 1024;
/** Smallest useful buffer: below a few batches, every line would wait for the periodic flush. */
export const MIN_LOG_BUFFER_BYTES = 4 * LOG_BATCH_BYTES;
