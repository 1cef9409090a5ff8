/**
 * Where log lines go: stdout through a bounded buffer that a slow reader can
 * never turn into a stalled event loop (README, Operations: the data plane
 * never waits for its logs).
 *
 * The buffer is pino's own destination, sonic-boom, in its asynchronous mode:
 *
 * - `sync: false`: lines are appended to an in-memory buffer and written by
 *   fs.write on the libuv thread pool, one write in flight at a time; the
 *   event loop never waits for the pipe.
 * - `maxLength: bufferBytes`: a write() that would take the buffer (including
 *   the chunk in flight) past this many bytes is not buffered; sonic-boom emits
 *   `drop` with exactly that chunk. Every chunk we hand it is one or more whole
 *   lines (pino writes one line per call, accessLog one event-loop turn's
 *   lines), so a drop never cuts a line: we count its newlines.
 * - `retryEAGAIN`: on a full non-blocking pipe fs.write fails with EAGAIN and
 *   sonic-boom retries the same bytes 100 ms later, for as long as we say so.
 *   Asynchronously that is forever, so output resumes by itself when the
 *   reader does (verified on a real pipe in test/unit/telemetry/log-output.test.ts).
 * - `minLength` + `periodicFlush`: bytes are handed to the thread pool in
 *   LOG_BATCH_BYTES batches, at the latest every LOG_FLUSH_INTERVAL_MS.
 *
 * Where sonic-boom alone falls short, and what this module adds:
 *
 * - flushSync() (pino calls it for `fatal` lines, and on process exit for every
 *   asynchronous destination) retries EAGAIN with a blocking 100 ms sleep and no
 *   limit: with nobody reading, the process hung at exit (measured: still alive
 *   10 s after process.exit()). It is wrapped here to give up after
 *   SYNC_FLUSH_BUDGET_MS.
 * - On a *blocking* pipe (the usual state of an inherited stdout) EAGAIN never
 *   comes: the pool thread doing fs.write waits for the reader, and a sync flush
 *   would block with no limit at all. So a pipe or socket on fd 1 is put in
 *   non-blocking mode first (see makeNonBlocking).
 * - A write error other than EAGAIN (the reader closed the pipe: EPIPE) turns
 *   every later line into a counted drop instead of an exception.
 * - Once output flows again after drops, one `warn` line says how many lines
 *   were lost, so a reader of the log sees the gap too.
 * - pino's `beforeExit` hook would end() the stream for good; here end() only
 *   flushes, so logging goes on in a process that does.
 */
import { fstatSync } from 'node:fs';
import { pino, type DestinationStream } from 'pino';
import { LOG_BATCH_BYTES, MIN_LOG_BUFFER_BYTES } from './log-sizes.js';

export { DEFAULT_LOG_BUFFER_BYTES, MIN_LOG_BUFFER_BYTES } from './log-sizes.js';

/** A quiet sidecar's lines still appear within this long (and `kubectl logs` stays live). */
const LOG_FLUSH_INTERVAL_MS = 250;
/** How long a fatal line or process exit may wait for a stalled reader before giving up its lines. */
const SYNC_FLUSH_BUDGET_MS = 1000;

/** A reader that keeps up only partly gets one notice of the lines lost per this interval, not one per write. */
const DROPPED_NOTICE_INTERVAL_MS = 1000;

export interface LogOutputOptions {
  /** File descriptor the lines go to (1 for stdout). */
  readonly fd: number;
  /** Bytes that may wait for a slow reader, the chunk being written included; at least MIN_LOG_BUFFER_BYTES. */
  readonly bufferBytes: number;
}

/** A pino destination whose synchronous flush is bounded (pino calls it for `fatal` lines). */
export interface LogDestination extends DestinationStream {
  flushSync(): void;
}

/** A pino destination that never blocks and counts what it had to drop. */
export interface LogOutput {
  /** Give this to pino(), and write access lines to it. */
  readonly stream: LogDestination;
  /** Whole lines dropped by this output since it was created. */
  droppedLines(): number;
}

/** Lines dropped by every output of this process: scopegate_log_lines_dropped_total. */
let droppedTotal = 0;

/** Whole log lines dropped since the process started, because a reader did not keep up (or went away). */
export function logLinesDropped(): number {
  return droppedTotal;
}

function countLines(chunk: unknown): number {
  const text = String(chunk);
  let lines = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lines += 1;
  return lines;
}

/** The `warn` line written once output flows again, in the shape of every other line. */
function droppedNotice(lines: number): string {
  return `{"level":"warn","time":"${new Date().toISOString()}","service":"scopegate","dropped_lines":${lines},"msg":"log lines dropped: the log reader did not keep up"}\n`;
}

/** The SonicBoom instance behind pino.destination(): the members we use beyond DestinationStream. */
interface SonicBoomStream extends LogDestination {
  write(chunk: string): boolean;
  flush(): void;
  end(): void;
  on(event: 'drop', listener: (chunk: string) => void): this;
  on(event: 'write', listener: (bytes: number) => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
}

export function createLogOutput(options: LogOutputOptions): LogOutput {
  let syncFlushDeadline = 0;
  const stream = pino.destination({
    dest: options.fd,
    sync: false,
    minLength: LOG_BATCH_BYTES,
    maxLength: Math.max(options.bufferBytes, MIN_LOG_BUFFER_BYTES),
    periodicFlush: LOG_FLUSH_INTERVAL_MS,
    // Asynchronously (deadline 0): always retry, so output resumes with the reader.
    retryEAGAIN: () => syncFlushDeadline === 0 || Date.now() < syncFlushDeadline,
  }) as unknown as SonicBoomStream;

  let dropped = 0;
  let droppedUnreported = 0;
  let noticeScheduled = false;
  const countDrop = (lines: number): void => {
    dropped += lines;
    droppedTotal += lines;
    droppedUnreported += lines;
  };
  stream.on('drop', (chunk) => countDrop(countLines(chunk)));

  // Bytes reached the reader again: say what was lost, at most once per DROPPED_NOTICE_INTERVAL_MS
  // (deferred in any case: sonic-boom is mid-release when it emits `write`).
  let lastNotice = 0;
  stream.on('write', () => {
    if (droppedUnreported === 0 || noticeScheduled) return;
    noticeScheduled = true;
    const delay = Math.max(0, lastNotice + DROPPED_NOTICE_INTERVAL_MS - Date.now());
    setTimeout(() => {
      noticeScheduled = false;
      lastNotice = Date.now();
      const lines = droppedUnreported;
      const before = dropped;
      stream.write(droppedNotice(lines));
      // A notice dropped in turn is counted with the rest and reported by the next one.
      if (dropped === before) droppedUnreported -= lines;
    }, delay).unref();
  });

  // pino's own listener already silences EPIPE; whatever the error, later lines become counted drops.
  stream.on('error', () => {
    stream.write = (chunk: string) => {
      countDrop(countLines(chunk));
      return true;
    };
    stream.flushSync = () => undefined;
  });

  // pino ends an asynchronous destination on `beforeExit`; a process that goes on
  // after it (an embedding, a test runner) would then throw on every line. The
  // output is never closed: ending it means writing out what it holds.
  stream.end = () => stream.flush();

  const flushSyncUnbounded = stream.flushSync.bind(stream);
  stream.flushSync = () => {
    syncFlushDeadline = Date.now() + SYNC_FLUSH_BUDGET_MS;
    try {
      flushSyncUnbounded();
    } catch {
      // The reader took nothing within the budget (EAGAIN), or is gone: those lines are lost.
    } finally {
      syncFlushDeadline = 0;
    }
  };

  return { stream, droppedLines: () => dropped };
}

/**
 * Put a pipe or socket on `fd` in non-blocking mode. Node has no fcntl(); opening
 * the fd as a libuv stream does it (uv_pipe_open sets O_NONBLOCK), and for fd 1
 * process.stdout is that stream. Files never block for long and terminals are
 * left as they are.
 */
function makeNonBlocking(fd: number): void {
  if (fd !== 1) return;
  try {
    const stat = fstatSync(fd);
    if (stat.isFIFO() || stat.isSocket()) void process.stdout;
  } catch {
    // fd 1 closed: the first write fails and the output turns into counted drops.
  }
}

let stdoutOutput: LogOutput | undefined;

/**
 * The process's one stdout output, created on first use with that caller's
 * bufferBytes (a restart setting). Shared, because two asynchronous writers on
 * one fd could interleave the halves of a partially written line.
 */
export function stdoutLogOutput(bufferBytes: number): LogOutput {
  if (stdoutOutput === undefined) {
    makeNonBlocking(1);
    stdoutOutput = createLogOutput({ fd: 1, bufferBytes });
  }
  return stdoutOutput;
}
