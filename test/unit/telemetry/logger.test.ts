import { Writable } from 'node:stream';
import t from 'tap';
import { accessLog, createLogger } from '../../../src/telemetry/logger.js';

/** Access lines are handed to the destination once per event-loop turn. */
const endOfTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function capture(): { stream: Writable; lines: () => string[] } {
  let buf = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      buf += chunk.toString();
      cb();
    },
  });
  return { stream, lines: () => buf.split('\n').filter((l) => l !== '') };
}

const SECRET = 'eyJhbGciOiJSUzI1NiJ9.SECRET-PAYLOAD.sig';

t.test('Authorization, tokens and cookies never reach the output', async (t) => {
  const out = capture();
  const logger = createLogger({ destination: out.stream, level: 'debug' });
  logger.info(
    {
      req: {
        method: 'GET',
        url: `/x?access_token=${SECRET}`,
        headers: { authorization: `Bearer ${SECRET}`, Cookie: `sid=${SECRET}`, 'x-api-key': SECRET, accept: 'a' },
        socket: { remoteAddress: '127.0.0.1' },
      },
      res: { statusCode: 200, headers: { 'set-cookie': [`sid=${SECRET}`], 'content-type': 'text/plain' } },
      headers: { Authorization: `Bearer ${SECRET}`, cookie: SECRET },
      rawHeaders: ['Authorization', `Bearer ${SECRET}`, 'COOKIE', SECRET, 'Accept', '*/*'],
      token: SECRET,
      access_token: SECRET,
      nested: { token: SECRET, authorization: SECRET, headers: { authorization: SECRET, 'set-cookie': SECRET } },
    },
    'request-ish',
  );
  logger.warn({ authorization: SECRET, jwt: SECRET, id_token: SECRET }, 'top-level');
  const lines = out.lines();
  t.equal(lines.length, 2);
  const all = lines.join('\n');
  t.notMatch(all, /SECRET-PAYLOAD/, all);
  const first = JSON.parse(lines[0] ?? '{}') as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- test reads arbitrary JSON
  t.equal(first['req'].path, '/x', 'query dropped from the logged path');
  t.equal(first['req'].headers.accept, 'a', 'harmless headers kept');
  t.equal(first['res'].headers['content-type'], 'text/plain');
  t.same(first['rawHeaders'], ['Authorization', '[Redacted]', 'COOKIE', '[Redacted]', 'Accept', '*/*']);
  t.equal(first['level'], 'info');
});

t.test('accessLog writes one line with exactly the access fields', async (t) => {
  const out = capture();
  const logger = createLogger({ destination: out.stream });
  const fields = {
    id: 'r1',
    method: 'GET',
    route: '/reports/:id',
    status: 200,
    reason: 'allowed' as const,
    code: undefined,
    decision_us: 12,
    upstream_ms: 3.14159,
    total_ms: 4.5,
    // a careless caller spreading a request into the fields: must not leak
    authorization: `Bearer ${SECRET}`,
    headers: { authorization: SECRET },
  };
  accessLog(logger, fields);
  accessLog(logger, { id: 'r2', method: 'GET', route: undefined, status: 404, reason: 'no_route', code: 'ERR_NO_ROUTE', decision_us: 3, upstream_ms: undefined, total_ms: 0.2 });
  t.equal(out.lines().length, 0, 'access lines are batched until the end of the event-loop turn');
  await endOfTurn();
  const lines = out.lines();
  t.equal(lines.length, 2);
  t.notMatch(lines.join('\n'), /SECRET/);
  const a = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
  t.match(a, { msg: 'request', id: 'r1', method: 'GET', route: '/reports/:id', status: 200, reason: 'allowed', decision_us: 12, upstream_ms: 3.142, total_ms: 4.5 });
  t.notOk('code' in a, 'undefined fields omitted');
  t.notOk('headers' in a);
  const b = JSON.parse(lines[1] ?? '{}') as Record<string, unknown>;
  t.match(b, { route: 'unmatched', status: 404, reason: 'no_route', code: 'ERR_NO_ROUTE' });
  t.notOk('upstream_ms' in b);
});

t.test('accessLog follows the logger level and shares its destination', async (t) => {
  const out = capture();
  const logger = createLogger({ destination: out.stream, level: 'warn' });
  const line = { id: 'r', method: 'GET', route: '/a', status: 200, reason: 'allowed' as const, code: undefined, decision_us: 1, upstream_ms: 1, total_ms: 2 };
  accessLog(logger, line);
  await endOfTurn();
  t.equal(out.lines().length, 0, 'info lines off at warn');
  logger.level = 'info';
  accessLog(logger, line);
  await endOfTurn();
  logger.info({ authorization: SECRET }, 'other');
  const lines = out.lines();
  t.equal(lines.length, 2);
  t.match(JSON.parse(lines[0] ?? '{}'), { msg: 'request', service: 'scopegate', level: 'info' });
  t.notMatch(lines[1] ?? '', /SECRET/, 'the general logger still redacts');
});

t.test('access: false turns the access line off, other lines stay', async (t) => {
  const out = capture();
  const logger = createLogger({ destination: out.stream, access: false });
  accessLog(logger, { id: 'r', method: 'GET', route: '/a', status: 200, reason: 'allowed', code: undefined, decision_us: 1, upstream_ms: 1, total_ms: 2 });
  logger.info('startup');
  await endOfTurn();
  t.same(
    out.lines().map((l) => (JSON.parse(l) as { msg: string }).msg),
    ['startup'],
  );
});

t.test('$SCOPEGATE_LOG_LEVEL, else $LOG_LEVEL, overrides the configured level', async (t) => {
  const saved = { s: process.env['SCOPEGATE_LOG_LEVEL'], l: process.env['LOG_LEVEL'] };
  t.teardown(() => {
    for (const [name, value] of [['SCOPEGATE_LOG_LEVEL', saved.s], ['LOG_LEVEL', saved.l]] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
  delete process.env['SCOPEGATE_LOG_LEVEL'];
  delete process.env['LOG_LEVEL'];
  t.equal(createLogger({ destination: capture().stream, level: 'warn' }).level, 'warn');
  t.equal(createLogger({ destination: capture().stream }).level, 'info', 'default');
  process.env['LOG_LEVEL'] = 'debug';
  t.equal(createLogger({ destination: capture().stream, level: 'warn' }).level, 'debug');
  process.env['SCOPEGATE_LOG_LEVEL'] = 'error';
  t.equal(createLogger({ destination: capture().stream, level: 'warn' }).level, 'error', 'SCOPEGATE_LOG_LEVEL first');
  process.env['SCOPEGATE_LOG_LEVEL'] = '';
  t.equal(createLogger({ destination: capture().stream, level: 'warn' }).level, 'debug', 'an empty variable is unset');
});
