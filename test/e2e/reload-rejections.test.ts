/**
 * An invalid config left in place while the process logs into a file in the
 * same directory: only changes to the config file itself trigger a reload,
 * and each distinct rejected content is logged exactly once.
 */
import t from 'tap';
import { appendFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startStack } from '../helpers/stack.js';

const REJECTED = 'config reload rejected; still serving the last good config';

t.test('an invalid config next to a growing log file: one rejection line per distinct content', async (t) => {
  const { sidecar } = await startStack(t, { issuer: 'https://idp.rejections.test/', routes: ['GET /r: r:read'] });
  const logFile = join(dirname(sidecar.configFile), 'scopegate.log');
  let writing = true;
  const writer = (async () => {
    // A line every 20 ms into the config's directory, as a process logging to a file there would.
    for (let i = 0; writing; i++) {
      appendFileSync(logFile, `line ${i}\n`);
      await sleep(20);
    }
  })();
  t.teardown(() => {
    writing = false;
  });

  writeFileSync(sidecar.configFile, 'listen: [not, an, address]\n');
  await sidecar.waitForLog(REJECTED, 5000);
  await sleep(1500);
  t.equal(sidecar.logs(REJECTED).length, 1, 'one line for the first invalid content, however many log writes follow');

  writeFileSync(sidecar.configFile, 'version: 2\n');
  await sidecar.waitForLogs(REJECTED, 2, 5000);
  await sleep(1500);
  t.equal(sidecar.logs(REJECTED).length, 2, 'one more for a new content');

  // The same invalid bytes rewritten: nothing new to say.
  writeFileSync(sidecar.configFile, 'version: 2\n');
  await sleep(1500);
  t.equal(sidecar.logs(REJECTED).length, 2, 'the same content again is not logged again');
  writing = false;
  await writer;
});
