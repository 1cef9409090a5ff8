/** The pure parts of `check --online`: metadata URLs (RFC 8414 §3.1, OIDC Discovery §4), placeholder hosts, scope comparison. */
import t from 'tap';
import { metadataUrls } from '../../../src/config/idp-metadata.js';
import { absentScopes, placeholderHost } from '../../../src/config/online-check.js';

t.test('metadata URLs: OIDC appends, RFC 8414 inserts, a terminating slash is dropped first', async (t) => {
  t.same(metadataUrls('https://idp.test'), ['https://idp.test/.well-known/openid-configuration', 'https://idp.test/.well-known/oauth-authorization-server']);
  t.same(metadataUrls('https://idp.test/'), ['https://idp.test/.well-known/openid-configuration', 'https://idp.test/.well-known/oauth-authorization-server']);
  t.same(metadataUrls('https://idp.test/realms/acme/'), [
    'https://idp.test/realms/acme/.well-known/openid-configuration',
    'https://idp.test/.well-known/oauth-authorization-server/realms/acme',
  ]);
  t.same(metadataUrls('https://idp.test:8443/t1'), ['https://idp.test:8443/t1/.well-known/openid-configuration', 'https://idp.test:8443/.well-known/oauth-authorization-server/t1']);
  for (const notAUrl of ['my-idp', 'urn:idp:1', 'https://idp.test/?tenant=1', 'https://idp.test/#x', 'ftp://idp.test/']) {
    t.equal(metadataUrls(notAUrl), undefined, `${notAUrl}: no metadata URL`);
  }
});

t.test('placeholder hosts: the RFC 2606 names and their subdomains, nothing else', async (t) => {
  for (const url of ['https://example.com/', 'https://idp.example.com/x', 'https://EXAMPLE.ORG', 'http://a.b.example.net:8080/', 'https://idp.example/', 'https://keys.invalid/', 'https://idp.example.com./']) {
    t.ok(placeholderHost(url), `${url} is a placeholder`);
  }
  for (const url of ['https://myexample.com/', 'https://example.com.evil.test/', 'https://idp.test/', 'http://127.0.0.1:9/', 'not a url']) {
    t.equal(placeholderHost(url), undefined, `${url} is not`);
  }
});

t.test('absent scopes: exact needs the scope itself, hierarchical accepts a listed parent segment', async (t) => {
  t.same(absentScopes(['a:b', 'c'], ['a', 'c'], 'exact'), ['a:b']);
  t.same(absentScopes(['a:b', 'c'], ['a', 'c'], 'hierarchical'), []);
  t.same(absentScopes(['a:bc'], ['a:b'], 'hierarchical'), ['a:bc'], 'never a partial segment');
});
