/**
 * A port that is taken, through the real CLI: one clear line naming the
 * setting (`listen` or `admin_listen`) and the address, exit 1, no stack trace.
 */
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testConfigYaml } from '../helpers/config.js';
import { CLI } from '../helpers/sidecar.js';

async function occupy(t: Test): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as { port: number }).port;
}

function serve(yaml: string): Promise<{ code: number | null; stderr: string }> {
  const file = join(mkdtempSync(join(tmpdir(), 'scopegate-port-')), 'scopegate.yaml');
  writeFileSync(file, yaml);
  const proc = spawn(process.execPath, [CLI, 'serve', '--config', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  return new Promise((resolve) => proc.on('exit', (code) => resolve({ code, stderr })));
}

const base = { issuer: 'https://idp.port.test/', jwksUri: 'http://127.0.0.1:9/jwks', routes: ['GET /r: r:read'] };

for (const setting of ['listen', 'admin_listen'] as const) {
  t.test(`${setting} taken`, async (t) => {
    const port = await occupy(t);
    const address = `127.0.0.1:${port}`;
    const { code, stderr } = await serve(testConfigYaml(setting === 'listen' ? { ...base, listen: address } : { ...base, adminListen: address }));
    t.equal(code, 1, 'exit 1');
    t.equal(stderr, `scopegate: cannot listen on ${address} (${setting}): the address is already in use\n`, 'one clear line');
    t.notMatch(stderr, /\n\s+at /, 'no stack trace');
  });
}
