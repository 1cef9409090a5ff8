/** JSON errors on a response and on the raw socket: one body shape, and the parser's codes kept. */
import { once } from 'node:events';
import { createServer, connect, type Socket } from 'node:net';
import t from 'tap';
import { clientErrorAnswer, CONNECT_ANSWER, errorJson, writeSocketAnswer } from '../../../src/respond/error.js';

t.test('Node clientError codes → status and description', async (t) => {
  t.match(clientErrorAnswer('HPE_HEADER_OVERFLOW'), { status: 431, error: 'invalid_request', description: 'request headers too large', code: 'HPE_HEADER_OVERFLOW' });
  t.match(clientErrorAnswer('ERR_HTTP_REQUEST_TIMEOUT'), { status: 408, description: 'request timeout', code: 'ERR_HTTP_REQUEST_TIMEOUT' });
  t.match(clientErrorAnswer('HPE_INVALID_METHOD'), { status: 400, description: 'malformed HTTP request', code: 'HPE_INVALID_METHOD' }, 'the parser code is logged as is');
  t.match(clientErrorAnswer(undefined), { status: 400, code: 'ERR_HTTP_PARSE' });
  t.match(CONNECT_ANSWER, { status: 405, error: 'method_not_allowed', code: 'ERR_ROUTE_METHOD_NOT_ALLOWED' });
});

t.test('a raw-socket answer is a whole HTTP/1.1 response that closes the connection', async (t) => {
  const server = createServer((socket: Socket) => writeSocketAnswer(socket, clientErrorAnswer('HPE_HEADER_OVERFLOW')));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const { port } = server.address() as { port: number };
  const client = connect(port, '127.0.0.1');
  let text = '';
  client.setEncoding('utf8').on('data', (c: string) => (text += c));
  await once(client, 'end');
  const body = errorJson('invalid_request', 'request headers too large');
  t.equal(text, `HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`);
  t.same(JSON.parse(body), { error: 'invalid_request', error_description: 'request headers too large' });
});
