/**
 * The soak's upstream: a small HTTP server on a fixed loopback port that can be
 * restarted the way a rolling deploy restarts an API: stop accepting, let requests
 * in flight finish, close the connections, stay down a moment, listen again on the
 * same port. The restart window (from the first refused connection to a grace
 * period after it is back) is the only time a forwarded request may get a 502.
 */
import { createServer } from 'node:http';
import { once } from 'node:events';

/** How long an in-flight request may take to finish before its connection is cut anyway. */
const CLOSE_TIMEOUT_MS = 2000;

function handler(req, res) {
  req.resume();
  req.on('end', () => res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 }).end('ok'));
}

async function listenOn(port) {
  const server = createServer({ keepAliveTimeout: 30_000 }, handler);
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

export async function startUpstream() {
  let server = await listenOn(0);
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  let requests = 0;
  server.on('request', () => (requests += 1));

  async function stop() {
    // Node closes idle keep-alive connections on close(); busy ones end after their response.
    const closed = once(server, 'close');
    server.close();
    const cut = setTimeout(() => server.closeAllConnections(), CLOSE_TIMEOUT_MS);
    await closed;
    clearTimeout(cut);
  }

  return {
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return requests;
    },
    /**
     * Down for `downMs`, then up again on the same port.
     * @returns {Promise<{ downAt: number, upAt: number }>} performance.now() timestamps
     */
    async restart(downMs) {
      const downAt = performance.now();
      await stop();
      await new Promise((resolve) => setTimeout(resolve, downMs));
      server = await listenOn(port);
      server.on('request', () => (requests += 1));
      return { downAt, upAt: performance.now() };
    },
    close: stop,
  };
}
