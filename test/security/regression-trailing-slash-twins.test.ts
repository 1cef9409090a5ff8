/**
 * Regression (security round 2, class 5): trailing-slash twins.
 *
 * With `GET /docs/*` public and `GET /docs/internal` protected, `GET /docs/internal/`
 * matched the public wildcard and reached the upstream without a token, where Express,
 * Spring MVC 5, Rails and ASP.NET route it to the protected handler. Under
 * `routes_trailing_slash: merge` (the default) a path ending in `/` must satisfy the
 * route its slash-less twin matches too, in every spelling that canonicalizes to it
 * (dot segments, percent-encoded unreserved characters); `distinct` turns it off.
 */
import t, { type Test } from 'tap';
import { get, startWorld, type World } from './fixture.js';

const ROUTES = ['GET /docs/*: { auth: none }', 'GET /docs/internal: admin', 'GET /files/:name: { auth: none }', 'GET /files/:name/meta: files:read', 'GET /open: { auth: none }'];
const SPELLINGS = ['/docs/internal/', '/docs/./internal/', '/docs/x/../internal/', '/docs/%69nternal/', '/docs/internal/./', '/docs/intern%61l/'];

async function expectTwinRule(t: Test, w: World, spelling: string): Promise<void> {
  const none = await w.probe(get(spelling));
  t.equal(none.first?.status, 401, `${spelling}: no token`);
  t.equal(none.delta.length, 0);
  const weak = await w.probe(get(spelling, `Authorization: Bearer ${w.token('items:read')}`));
  t.equal(weak.first?.status, 403, `${spelling}: a token without the twin's scope`);
  t.equal(weak.delta.length, 0);
  const strong = await w.probe(get(spelling, `Authorization: Bearer ${w.token('admin')}`));
  t.equal(strong.first?.status, 200, `${spelling}: the twin's scope`);
  t.equal(strong.delta.length, 1);
}

t.test('trailing-slash twins over raw sockets against scopegate serve', async (t) => {
  const w = await startWorld({ routes: ROUTES });
  t.teardown(() => w.close());

  t.test('positive control: the public wildcard stays public where no twin is routed', async (t) => {
    for (const path of ['/docs/a', '/docs/a/', '/docs/internalx/', '/open', '/files/x']) {
      const r = await w.probe(get(path));
      t.equal(r.first?.status, 200, path);
      t.equal(r.delta.length, 1, path);
    }
    const twin = await w.probe(get('/docs/internal', `Authorization: Bearer ${w.token('admin')}`));
    t.equal(twin.first?.status, 200);
  });

  t.test('/docs/internal/ in every spelling needs the protected twin’s token', async (t) => {
    for (const spelling of SPELLINGS) await expectTwinRule(t, w, spelling);
  });

});

t.test('routes_trailing_slash: distinct turns the rule off', async (t) => {
  const w = await startWorld({ routes: ROUTES, extra: 'routes_trailing_slash: distinct' });
  t.teardown(() => w.close());
  const r = await w.probe(get('/docs/internal/'));
  t.equal(r.first?.status, 200, 'the wildcard alone decides');
  t.equal(r.delta.length, 1);
  const twin = await w.probe(get('/docs/internal'));
  t.equal(twin.first?.status, 401, 'the twin itself is still protected');
  t.equal(twin.delta.length, 0);
});
