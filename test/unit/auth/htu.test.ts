import t from 'tap';
import { normalizeHttpUri, normalizeOrigins, HTU_INVALID, HTU_QUERY } from '../../../src/auth/htu.js';

t.test('RFC 3986 syntax-based normalization of an absolute http(s) URI', async (t) => {
  const cases: [string, { origin: string; path: string }][] = [
    ['https://api.example.com/a', { origin: 'https://api.example.com', path: '/a' }],
    ['HTTPS://API.EXAMPLE.COM/A', { origin: 'https://api.example.com', path: '/A' }], // the path stays case-sensitive
    ['https://api.example.com:443/a', { origin: 'https://api.example.com', path: '/a' }],
    ['http://api.example.com:80/a', { origin: 'http://api.example.com', path: '/a' }],
    ['http://api.example.com:443/a', { origin: 'http://api.example.com:443', path: '/a' }],
    ['https://api.example.com:08443/a', { origin: 'https://api.example.com:8443', path: '/a' }],
    ['https://api.example.com', { origin: 'https://api.example.com', path: '/' }],
    ['https://[::1]:8443/a/../b', { origin: 'https://[::1]:8443', path: '/b' }],
    ['https://[2001:DB8::1]/', { origin: 'https://[2001:db8::1]', path: '/' }],
    ['https://api.example.com/a%7Eb/%E2%82%AC', { origin: 'https://api.example.com', path: '/a~b/%E2%82%AC' }],
  ];
  for (const [uri, want] of cases) t.same(normalizeHttpUri(uri), want, uri);
});

t.test('refused: query or fragment, then anything that is not an http(s) origin + canonical path', async (t) => {
  for (const uri of ['https://a.example/p?x', 'https://a.example/p?', 'https://a.example/p#f', 'https://a.example?x']) {
    t.equal(normalizeHttpUri(uri), HTU_QUERY, uri);
  }
  const invalid = [
    '/relative', 'api.example.com/a', 'ftp://a.example/p', 'https:///p', 'https://u:p@a.example/p',
    'https://a.example:99999/p', 'https://a.example:x/p', 'https://[::1/p', 'https://[::1]x/p',
    'https://a.example/a//b', 'https://a.example/..', 'https://a.example/a%2Fb', 'https://a.example/a;b', 'https://a.example/a\\b',
    'https://a.example/ a',
  ];
  for (const uri of invalid) t.equal(normalizeHttpUri(uri), HTU_INVALID, uri);
});

t.test('origins: scheme://host[:port] only, normalized like htu', async (t) => {
  t.same([...normalizeOrigins(['https://API.example.com:443', 'http://127.0.0.1:8080/'])], ['https://api.example.com', 'http://127.0.0.1:8080']);
  for (const bad of ['https://a.example/x', 'https://a.example?x', 'a.example', 'https://a.example/./']) {
    t.throws(() => normalizeOrigins([bad]), TypeError, bad);
  }
});
