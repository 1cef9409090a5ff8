/**
 * The bounded log output on a real pipe (a FIFO) whose reader the test
 * controls: nothing read → whole lines dropped and counted, the writer never
 * waits; reading again → output resumes and a notice says how much was lost.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { createLogOutput, logLinesDropped, MIN_LOG_BUFFER_BYTES } from '../../../src/telemetry/log-output.js';
import { accessLog, createLogger } from '../../../src/telemetry/logger.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Fifo {
  readonly readFd: number;
  readonly writeFd: number;
  /** Everything the reader can take right now (non-blocking). */
  read(): string;
  closeReader(): void;
}

/** A named pipe, both ends non-blocking: the writer sees EAGAIN when it is full, as on a stalled stdout. */
function fifo(t: Test): Fifo {
  const dir = mkdtempSync(join(tmpdir(), 'scopegate-fifo-'));
  const path = join(dir, 'out');
  execFileSync('mkfifo', [path]);
  const readFd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const writeFd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  let readerOpen = true;
  t.teardown(() => {
    if (readerOpen) closeSync(readFd);
    rmSync(dir, { recursive: true, force: true });
  });
  const buf = Buffer.alloc(65536);
  return {
    readFd,
    writeFd,
    read() {
      let text = '';
      for (;;) {
        try {
          const n = readSync(readFd, buf);
          if (n === 0) return text;
          text += buf.toString('utf8', 0, n);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'EAGAIN') return text;
          throw error;
        }
      }
    },
    closeReader() {
      readerOpen = false;
      closeSync(readFd);
    },
  };
}

const line = (i: number) =>
  ({ id: `r${i}`, method: 'GET', route: '/reports/:id', status: 200, reason: 'allowed', code: undefined, decision_us: 12, upstream_ms: 1.5, total_ms: 2 }) as const;

/** Reads until `done(received)` or the deadline; returns every complete line read. */
async function readUntil(pipe: Fifo, done: (lines: string[]) => boolean, timeoutMs = 5000): Promise<string[]> {
  let text = '';
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    text += pipe.read();
    const lines = text.split('\n').slice(0, -1);
    if (done(lines) || Date.now() > deadline) return lines;
    await sleep(20);
  }
}

t.test('a reader that stops: whole lines dropped and counted, never a wait; it resumes: every line accounted for', async (t) => {
  const pipe = fifo(t);
  const output = createLogOutput({ fd: pipe.writeFd, bufferBytes: MIN_LOG_BUFFER_BYTES });
  const logger = createLogger({ destination: output.stream });
  const before = logLinesDropped();

  // ~200 B a line: 400 turns of 10 lines is ~800 KB, far past the 64 KiB pipe plus a 48 KiB buffer.
  const TURNS = 400;
  const NO_WAIT_BOUND_MS = 1000;
  const PER_TURN = 10;
  let slowestTurnMs = 0;
  for (let turn = 0; turn < TURNS; turn++) {
    const started = performance.now();
    for (let k = 0; k < PER_TURN; k++) accessLog(logger, line(turn * PER_TURN + k));
    logger.info({ turn }, 'application line');
    await new Promise((resolve) => setImmediate(resolve));
    slowestTurnMs = Math.max(slowestTurnMs, performance.now() - started);
  }
  const written = TURNS * (PER_TURN + 1);
  t.ok(output.droppedLines() > written / 2, `most lines dropped while nobody read (${output.droppedLines()} of ${written})`);
  t.equal(logLinesDropped() - before, output.droppedLines(), 'the process-wide count includes them');
  // A blocking write to a pipe nobody reads never returns (sonic-boom's sync mode sleeps and retries
  // EAGAIN until the reader comes back), so any bound catches it; 1 s leaves room for a loaded machine.
  t.ok(slowestTurnMs < NO_WAIT_BOUND_MS, `no turn waited for the pipe (slowest ${slowestTurnMs.toFixed(1)} ms)`);

  // The reader comes back: what was buffered arrives, and notices that add up to the count.
  const isNotice = (l: string): boolean => l.includes('"msg":"log lines dropped');
  const reported = (ls: string[]): number =>
    ls.filter(isNotice).reduce((sum, l) => sum + Number((JSON.parse(l) as { dropped_lines: number }).dropped_lines), 0);
  const lines = await readUntil(pipe, (ls) => reported(ls) === output.droppedLines());
  const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  t.pass('every line that arrived is complete JSON');
  t.equal(reported(lines), output.droppedLines(), 'the notices count exactly the dropped lines');
  const arrived = parsed.filter((p) => p['level'] === 'info').length;
  const notices = parsed.length - arrived;
  t.ok(notices >= 1 && notices <= 3, `at most one notice a second (${notices})`);
  // A notice can itself be dropped (and is then counted, and reported by the next one).
  const unaccounted = written - arrived - output.droppedLines();
  t.ok(unaccounted <= 0 && unaccounted > -notices - 3, `every line written either arrived or was counted (${arrived} + ${output.droppedLines()} vs ${written})`);

  // And logging simply goes on.
  accessLog(logger, line(written));
  logger.info('after');
  const after = await readUntil(pipe, (ls) => ls.some((l) => l.includes('"msg":"after"')));
  t.match(after.join('\n'), new RegExp(`"id":"r${written}"`), 'access lines flow again');
});

t.test('flushSync (fatal lines, process exit) gives up on a stalled reader instead of hanging', async (t) => {
  const pipe = fifo(t);
  // A buffer big enough to hold what the full pipe refuses, so the sync flush has bytes it cannot write.
  const output = createLogOutput({ fd: pipe.writeFd, bufferBytes: 1024 * 1024 });
  const chunk = `${'x'.repeat(999)}\n`;
  for (let i = 0; i < 200; i++) output.stream.write(chunk);
  await sleep(200); // the first batches fill the 64 KiB pipe; the rest waits in the buffer
  t.equal(output.droppedLines(), 0, 'nothing dropped yet: it fits the buffer');
  const started = Date.now();
  const logger = createLogger({ destination: output.stream });
  logger.fatal('fatal with nobody reading'); // pino flushes synchronously after a fatal line
  const took = Date.now() - started;
  // sonic-boom alone retries EAGAIN every 100 ms for ever here.
  t.ok(took >= 500 && took < 2500, `tried, then gave up after ${took} ms`);
  pipe.closeReader(); // else sonic-boom retries the stalled write every 100 ms and the test never exits
});

t.test('a reader that goes away (EPIPE): later lines are counted drops, never an exception', async (t) => {
  const pipe = fifo(t);
  const output = createLogOutput({ fd: pipe.writeFd, bufferBytes: MIN_LOG_BUFFER_BYTES });
  const logger = createLogger({ destination: output.stream });
  logger.info('before');
  await readUntil(pipe, (ls) => ls.length === 1);
  pipe.closeReader();
  for (let i = 0; i < 10; i++) logger.info({ i }, 'into a closed pipe');
  await sleep(400); // past the periodic flush: the write fails with EPIPE
  const dropped = output.droppedLines();
  t.doesNotThrow(() => {
    for (let i = 0; i < 5; i++) accessLog(logger, line(i));
    logger.info('still fine');
  });
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(output.droppedLines(), dropped + 6, 'each later line counted');
  t.doesNotThrow(() => output.stream.flushSync());
});

t.test('end() (pino calls it on beforeExit) only flushes: a process that goes on keeps logging', async (t) => {
  const pipe = fifo(t);
  const output = createLogOutput({ fd: pipe.writeFd, bufferBytes: MIN_LOG_BUFFER_BYTES });
  const logger = createLogger({ destination: output.stream });
  logger.info('before end');
  (output.stream as unknown as { end(): void }).end();
  await sleep(300); // sonic-boom's own end() would have closed the stream by now
  t.doesNotThrow(() => logger.info('after end'));
  const lines = await readUntil(pipe, (ls) => ls.length === 2);
  t.same(
    lines.map((l) => (JSON.parse(l) as { msg: string }).msg),
    ['before end', 'after end'],
  );
});
