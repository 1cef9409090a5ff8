/**
 * After a drain, `serve` exits even when nobody reads its stdout: a stalled
 * log output keeps retrying its write, and without a bound the process would
 * stay alive after "drained, exiting".
 */
import t from 'tap';
import { Pool } from 'undici';
import { startStack } from '../helpers/stack.js';

/** Generous for a loaded machine: the bound in serve is one second, plus the output's own flush budget. */
const EXIT_BUDGET_MS = 8000;

t.test('SIGTERM with stdout not read: the process still exits', async (t) => {
  const { sidecar } = await startStack(t, { issuer: 'https://idp.exit.test/', routes: ['GET /r: r:read'], extra: 'logging:\n  buffer_bytes: 65536' });
  sidecar.proc.stdout!.pause();
  // Enough access lines (404s) to fill the pipe and the parent's buffer.
  const pool = new Pool(sidecar.url, { connections: 16 });
  t.teardown(() => pool.close());
  await Promise.all(Array.from({ length: 16 }, async () => {
    for (let i = 0; i < 400; i++) {
      const res = await pool.request({ method: 'GET', path: `/unmapped/${'x'.repeat(200)}/${i}` });
      await res.body.dump();
    }
  }));
  const started = Date.now();
  sidecar.proc.kill('SIGTERM');
  const timer = setTimeout(() => sidecar.proc.stdout!.resume(), EXIT_BUDGET_MS);
  const code = await sidecar.exited;
  clearTimeout(timer);
  t.equal(code, 0, 'exit 0 after the drain');
  t.ok(Date.now() - started < EXIT_BUDGET_MS, `exited within ${EXIT_BUDGET_MS} ms while stdout was still not read (${Date.now() - started} ms)`);
  sidecar.proc.stdout!.resume();
});
