/** The shared upstream: a minimal Node HTTP server answering every request with a small JSON body. Own process. */
import { createServer } from 'node:http';

const port = Number(process.argv[2]);
const body = Buffer.from('{"ok":true,"from":"bench-upstream"}');
const server = createServer((req, res) => {
  req.resume();
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => process.exit(0));
