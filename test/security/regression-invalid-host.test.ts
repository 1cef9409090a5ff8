/**
 * Regression (security round 2, class 6): invalid Host values were forwarded.
 *
 * A Host with a space, a path, userinfo, a comma list or a port that is not digits
 * reached the upstream as `Host` and `X-Forwarded-Host`, where frameworks build
 * absolute URLs, pick a virtual host or split the value differently. A Host must be
 * `uri-host [ ":" port ]` (RFC 9112 §3.2, RFC 3986 §3.2.2); anything else is 400
 * invalid_request, on every route (public ones included), never forwarded.
 */
import t from 'tap';
import { startWorld } from './fixture.js';

const request = (host: string, target = '/public/x', version = '1.1'): string => `GET ${target} HTTP/${version}\r\nHost: ${host}\r\n\r\n`;

t.test('Host validity over raw sockets against scopegate serve', async (t) => {
  const w = await startWorld();
  t.teardown(() => w.close());

  t.test('positive control: names, ports, IPv4, bracketed IPv6, percent-escapes, an empty Host', async (t) => {
    const good = ['scopegate.test', 'scopegate.test:8080', 'API.Example.COM:1', '127.0.0.1', '127.0.0.1:65535', '[::1]', '[::1]:8080', '[2001:db8::7]', 'xn--bcher-kva.example', 'a-b_c~d', 'ex%41mple', "s!$&'()*+;=", ''];
    for (const host of good) {
      const r = await w.probe(request(host));
      t.equal(r.first?.status, 200, JSON.stringify(host));
      t.equal(r.delta.length, 1);
      if (host !== '') {
        t.equal(r.delta[0]?.headers['host'], host, 'Host forwarded as sent');
        t.equal(r.delta[0]?.headers['x-forwarded-host'], host);
      }
    }
  });

  t.test('not uri-host[:port]: 400 invalid_request, never forwarded as Host or X-Forwarded-Host', async (t) => {
    const bad = [
      'evil.example scopegate.test', // space
      'a b',
      'scopegate.test/admin', // path
      'scopegate.test/',
      'evil.example\\scopegate.test',
      'user@scopegate.test', // userinfo
      'scopegate.test@evil.example',
      'evil.example,scopegate.test', // comma list
      'scopegate.test, evil.example',
      'scopegate.test:80x', // port not digits
      'scopegate.test:',
      'scopegate.test:-1',
      'scopegate.test:80:80',
      'scopegate.test:+80',
      '[::1', // broken IP-literal
      '[::1]x',
      '[::1]:',
      '[zz::1]',
      '[]',
      '[v1.x]', // IPvFuture: refused
      'scopegate.test?x=1',
      'scopegate.test#f',
      'ex%zzample', // bad escape
      'ex%4',
      'ex"ample',
      'ex<ample>',
      'exämple.test', // not ASCII
      'ex\tample',
    ];
    for (const host of bad) {
      for (const [target, version] of [['/public/x', '1.1'], ['/api/items/1', '1.1'], ['/public/x', '1.0']] as const) {
        const r = await w.probe(request(host, target, version));
        t.equal(r.first?.status, 400, `${JSON.stringify(host)} ${target} HTTP/${version}`);
        t.same(r.first?.json, { error: 'invalid_request', error_description: 'the Host header is not a host name or address with an optional port' });
        t.equal(r.delta.length, 0, 'upstream saw nothing');
      }
    }
  });
});
