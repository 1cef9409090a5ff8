/** The Node ceiling: bare node:http + undici Pool.stream, no auth, no routing. Own process. */
import { createServer } from 'node:http';
import { Pool } from 'undici';

const [port, upstream] = [Number(process.argv[2]), process.argv[3]];
const pool = new Pool(upstream, { connections: 128, keepAliveTimeout: 4_000 });
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host']);

const server = createServer((req, res) => {
  const headers = {};
  for (const [k, v] of Object.entries(req.headers)) if (!HOP.has(k)) headers[k] = v;
  pool.stream(
    { path: req.url, method: req.method, headers, body: req.method === 'GET' || req.method === 'HEAD' ? null : req },
    ({ statusCode, headers: h }) => {
      for (const k of HOP) delete h[k];
      res.writeHead(statusCode, h);
      return res;
    },
    (err) => {
      if (err && !res.headersSent) {
        res.statusCode = 502;
        res.end();
      }
    },
  );
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => process.exit(0));
