import t from 'tap';
import { readServer, toRouteTemplate } from '../../../src/openapi/paths.js';

const tpl = (base: string, path: string): string => {
  const r = toRouteTemplate(base, path);
  if ('reason' in r) throw new Error(r.reason);
  return r.template;
};
const reason = (path: string): string => {
  const r = toRouteTemplate('', path);
  return 'reason' in r ? r.reason : `accepted as ${r.template}`;
};

t.test('{param} becomes :param; the base path is prepended', async (t) => {
  t.equal(tpl('', '/pet/{petId}'), '/pet/:petId');
  t.equal(tpl('/api/v3', '/pet/{petId}/uploadImage'), '/api/v3/pet/:petId/uploadImage');
  t.equal(tpl('', '/'), '/');
  t.equal(tpl('/v3', '/'), '/v3/', 'server URL + path, concatenated as OpenAPI says');
  t.equal(tpl('', '/a/'), '/a/', 'trailing slash kept: it is significant in scopegate');
  t.equal(tpl('', '/v1/projects:batchGet'), '/v1/projects:batchGet', 'a colon inside a literal is fine');
  t.equal(tpl('', '/%7Euser'), '/~user', 'canonicalized like the loader does');
});

t.test('parameter names become identifiers; names never collide', async (t) => {
  t.equal(tpl('', '/v/{vehicle-id}/{position.ts}'), '/v/:vehicle_id/:position_ts');
  t.equal(tpl('', '/{1st}'), '/:_1st');
  t.equal(tpl('', '/{a-b}/{a_b}'), '/:a_b/:a_b_2');
});

t.test('what cannot be expressed exactly is refused with a reason', async (t) => {
  t.match(reason('/files/{name}.json'), /not a whole segment/);
  t.match(reason('/v1/{name}:undelete'), /not a whole segment/);
  t.match(reason('/a/{b}{c}'), /not a whole segment/);
  t.match(reason('/files/*'), /wildcard/);
  t.match(reason('/a/:literal'), /starts with ":"/);
  t.match(reason('/a#frag'), /fragment/);
  t.match(reason('/a//b'), /empty path segment/);
  t.match(reason('/a;v=1'), /path parameters/);
  t.match(reason('pets'), /does not start with "\/"/);
  t.match(reason('/a b'), /control character, space/);
});

t.test('readServer: origin and base path of servers[0]', async (t) => {
  t.same(readServer([{ url: 'https://api.reverb.com/api' }, { url: 'http://other' }]), { origin: 'https://api.reverb.com', basePath: '/api', url: 'https://api.reverb.com/api', warnings: [] });
  t.same(readServer([{ url: '/api/v3' }]), { origin: undefined, basePath: '/api/v3', url: '/api/v3', warnings: [] });
  t.same(readServer([{ url: 'http://h:8080/' }]), { origin: 'http://h:8080', basePath: '', url: 'http://h:8080/', warnings: [] });
  t.same(readServer(undefined), { origin: undefined, basePath: '', url: undefined, warnings: [] });
  t.same(readServer([]), { origin: undefined, basePath: '', url: undefined, warnings: [] });
  const vars = readServer([{ url: 'https://{region}.x.net/{base}', variables: { region: { default: 'eu' }, base: { default: 'v2' } } }]);
  t.equal(vars.origin, 'https://eu.x.net');
  t.equal(vars.basePath, '/v2');
  const nodefault = readServer([{ url: 'https://{region}.x.net/v1', variables: {} }]);
  t.equal(nodefault.origin, undefined);
  t.match(nodefault.warnings[0], /\{region\} has no default/);
  const ftp = readServer([{ url: 'ftp://x/y' }]);
  t.equal(ftp.origin, undefined);
  t.equal(ftp.basePath, '/y');
  t.match(ftp.warnings[0], /not http/);
  t.match(readServer([{ url: '/a/*' }]).warnings[0], /wildcard/);
  t.match(readServer({ url: '/x' }).warnings[0], /not a list/);
});
