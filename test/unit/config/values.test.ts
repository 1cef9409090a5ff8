/** values.ts: readers for values with a meaning of their own. */
import t from 'tap';
import { foldHeaderName } from '../../../src/proxy/headers.js';
import { parseListen, readHeaderName, readJwksUri, readListen, readUpstreamUrl } from '../../../src/config/values.js';
import { readYaml } from './read-yaml.js';

t.test('parseListen: host:port, [v6]:port, a bare port on loopback', async (t) => {
  t.same(parseListen('8080'), { host: '127.0.0.1', port: 8080 });
  t.same(parseListen('0.0.0.0:1'), { host: '0.0.0.0', port: 1 });
  t.same(parseListen('[::1]:9'), { host: '::1', port: 9 });
  for (const bad of ['65536', '[nope]:1', 'a b:1', 'host:', ':80', '08080', 'h:1:2']) t.equal(parseListen(bad), undefined, bad);
  t.same(readYaml('9090', readListen).value, { host: '127.0.0.1', port: 9090 }, 'a YAML number is a bare port');
  t.same(readYaml('70000', readListen).issues, ['1:1 x: must be host:port, [ipv6]:port or a port number (0-65535), got number 70000']);
});

t.test('readUpstreamUrl reads the origin; readJwksUri warns about plain http off loopback', async (t) => {
  t.equal(readYaml('HTTP://Example.COM:80/', readUpstreamUrl).value, 'http://example.com');
  t.same(readYaml('http://h/v1', readUpstreamUrl).issues, ['1:1 x: must be an origin without a path (routes already carry the path), got path /v1']);
  t.same(readYaml('http://127.0.0.1:1/jwks', readJwksUri).issues, []);
  t.same(readYaml('http://idp.example/jwks', readJwksUri).issues, ['warning 1:1 x: keys fetched over plain http from a non-loopback host can be replaced in transit; use https']);
});

t.test('readHeaderName refuses reserved names as the proxy folds them', async (t) => {
  t.equal(readYaml('X-Auth-Subject', readHeaderName).value, 'x-auth-subject');
  for (const name of ['Authorization', 'X_Forwarded_For', 'Content.Length', 'x~http~method']) {
    t.same(readYaml(name, readHeaderName).issues.length, 1, `${name} (folds to ${foldHeaderName(name)}) is reserved`);
  }
  t.same(readYaml('"a b"', readHeaderName).issues, ['1:1 x: "a b" is not a valid header name']);
});
