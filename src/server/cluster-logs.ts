/**
 * Workers' log lines reach stdout through the primary. Workers writing to one
 * shared stdout would interleave: each writes its lines in batches larger than
 * a pipe's atomic write (PIPE_BUF, 4 KiB on Linux), so halves of lines from two
 * workers could meet in one line. Instead each worker writes to its own pipe,
 * and the primary hands whole lines to its own bounded output
 * (telemetry/log-output.ts): one writer on stdout, and a stalled reader still
 * costs dropped, counted lines, never a blocked worker.
 */
import type { Worker } from 'node:cluster';
import { Counter, type Registry } from 'prom-client';
import { logLinesDropped, stdoutLogOutput } from '../telemetry/log-output.js';

/** A worker's partial line is held back until its newline; one this long without one is passed on as is. */
const MAX_PARTIAL_LINE_CHARS = 1 << 20;

export function createLogRelay(bufferBytes: number, registry: Registry): (worker: Worker) => void {
  const output = stdoutLogOutput(bufferBytes).stream;
  // The primary's drops (the workers' pipes are always read, so theirs stay at 0); summed with theirs on /metrics.
  new Counter({
    name: 'scopegate_log_lines_dropped_total',
    help: 'Log lines dropped whole because the stdout reader did not keep up (the buffer held logging.buffer_bytes) or went away.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(logLinesDropped());
    },
  });
  return (worker) => {
    let partial = '';
    worker.process.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      const text = partial + chunk;
      const end = text.lastIndexOf('\n') + 1;
      if (end === 0 && text.length < MAX_PARTIAL_LINE_CHARS) {
        partial = text;
        return;
      }
      partial = end === 0 ? '' : text.slice(end);
      output.write(end === 0 ? `${text}\n` : text.slice(0, end));
    });
    worker.process.stdout?.on('end', () => {
      if (partial !== '') output.write(`${partial}\n`);
      partial = '';
    });
    // Rare, unbuffered lines (a port taken, a crash's stack): passed straight on.
    worker.process.stderr?.on('data', (chunk: Buffer) => process.stderr.write(chunk));
  };
}
