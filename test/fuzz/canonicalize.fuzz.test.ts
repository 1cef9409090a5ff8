/**
 * Fuzz: the path canonicalizer (src/routes/normalize.ts).
 *  - never throws: every input gives a PathError (one of the frozen PATH_ERRORS) or a result;
 *  - idempotent: canonicalizing an accepted path again returns it unchanged;
 *  - accepted output is unambiguous: starts with `/`, no `//`, no dot segment, only
 *    pchar + `%XX` with upper-case hex, no encoded (or double-encoded) separator, dot,
 *    `;` or control character, and the query comes back byte for byte;
 *  - a once-decoding upstream sees the same segments (same count, no dot segment).
 */
import t from 'tap';
import fc from 'fast-check';
import { canonicalizePath, canonicalizeTarget, PATH_ERRORS } from '../../src/routes/normalize.js';
import { PathError } from '../../src/errors.js';
import { params, RUNS } from './runs.js';

const PIECES = [
  '/', '/', '/', 'a', 'B', 'z9', 'public', 'admin', '.', '..', '...', '~', '-', '_', ':', '@', '*', '!', "'", '$', '&', '(', '+', ',', '=',
  '%', '%2', '%2e', '%2E', '%2f', '%2F', '%5c', '%5C', '%3b', '%3B', '%41', '%61', '%7e', '%25', '%252F', '%252e', '%253b', '%255c', '%32', '%46', '%65', '%66',
  '%3a', '%C3%A9', '%c3', '%a9', '%E2%82%AC', '%F0%9F%98%80', '%ED%A0%80', '%C0%AF', '%C0%AE', '%E0%80%AE', '%F4%90%80%80', '%00', '%0a', '%7f', '%zz', '%u002e',
  ';', '\\', '?', '#', ' ', '\u00e9', '\u0000', '"', '{', '[', '\r', '\n', '\t', '\uD800', '\uFFFF',
];
const pieceTarget = fc.array(fc.constantFrom(...PIECES), { maxLength: 24 }).map((p) => '/' + p.join(''));
const anyTarget = fc.oneof(
  { weight: 4, arbitrary: pieceTarget },
  { weight: 1, arbitrary: fc.string({ maxLength: 60 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 60, unit: 'binary' }).map((s) => '/' + s) },
  { weight: 1, arbitrary: fc.string({ maxLength: 60, unit: fc.constantFrom(...'/.%2eEfF5cC3bB;\\a?#'.split('')) }).map((s) => '/' + s) },
);
const FROZEN = new Set<PathError>(Object.values(PATH_ERRORS));
const LIMITS = { maxTargetBytes: 8192, maxSegments: 64 };

function decodeSegments(path: string): string[] {
  return path.slice(1).split('/').map((s) => decodeURIComponent(s));
}

t.test(`canonicalizeTarget: typed result, never a throw, idempotent, unambiguous (${RUNS} runs)`, async (t) => {
  const started = Date.now();
  let accepted = 0;
  fc.assert(
    fc.property(anyTarget, fc.boolean(), (target, limited) => {
      let r: ReturnType<typeof canonicalizeTarget>;
      try {
        r = canonicalizeTarget(target, limited ? LIMITS : undefined);
      } catch (err) {
        throw new Error(`threw on ${JSON.stringify(target)}: ${String(err)}`);
      }
      if (r instanceof PathError) {
        if (!FROZEN.has(r)) throw new Error('not one of the frozen PATH_ERRORS');
        return;
      }
      accepted++;
      const { path, query } = r;
      if (!path.startsWith('/')) throw new Error('path must start with /');
      if (path.includes('//')) throw new Error(`empty segment in ${path}`);
      if (!/^[A-Za-z0-9\-._~!$&'()*+,=:@/%]*$/.test(path)) throw new Error(`char outside pchar in ${path}`);
      if (/%(?![0-9A-F]{2})/.test(path)) throw new Error(`malformed or lower-case escape in ${path}`);
      if (/%(2F|5C|3B|2E|[01][0-9A-F]|7F)/.test(path)) throw new Error(`encoded separator/dot/;/control in ${path}`);
      if (/%25(2F|2E|5C|3B)/i.test(path)) throw new Error(`double-encoded separator in ${path}`);
      if (/(^|\/)\.\.?(\/|$)/.test(path)) throw new Error(`dot segment in ${path}`);
      if (/%(4[1-9A-F]|5[0-9A]|6[1-9A-F]|7[0-9A]|3[0-9]|2D|5F|7E)/.test(path)) throw new Error(`encoded unreserved left in ${path}`);
      const q = target.indexOf('?');
      if (query !== (q === -1 ? '' : target.slice(q))) throw new Error('query changed');
      // Idempotent, on both entry points.
      const again = canonicalizeTarget(path + query, limited ? LIMITS : undefined);
      if (again instanceof PathError || again.path !== path || again.query !== query) throw new Error(`not idempotent: ${path}`);
      if (canonicalizePath(path) !== path) throw new Error(`canonicalizePath not idempotent: ${path}`);
      // A once-decoding upstream sees the same number of segments and no dot segment.
      const decoded = decodeSegments(path);
      if (decoded.length !== path.split('/').length - 1) throw new Error('segment count changed by decoding');
      if (decoded.some((s) => s === '.' || s === '..' || s.includes('/') || s.includes('\\') || s.includes(';'))) throw new Error(`decoding reveals a separator or dot in ${path}`);
    }),
    params(),
  );
  t.ok(accepted > RUNS / 20, `a useful share of inputs was accepted (${accepted})`);
  t.comment(`${RUNS} runs in ${Date.now() - started} ms, ${accepted} accepted`);
});

t.test(`limits never throw and are exact (${Math.ceil(RUNS / 10)} runs)`, async (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 64, max: 400 }), fc.integer({ min: 1, max: 20 }), fc.array(fc.constantFrom('a', 'bb', '.', '..', '%61', 'x'), { maxLength: 60 }), (maxTargetBytes, maxSegments, segs) => {
      const target = '/' + segs.join('/');
      const r = canonicalizeTarget(target, { maxTargetBytes, maxSegments });
      if (Buffer.byteLength(target) > maxTargetBytes) return r === PATH_ERRORS.ERR_PATH_TOO_LONG;
      const unlimited = canonicalizeTarget(target);
      if (unlimited instanceof PathError) return r === unlimited;
      const n = unlimited.path.split('/').length - 1;
      return n > maxSegments ? r === PATH_ERRORS.ERR_PATH_TOO_LONG : !(r instanceof PathError) && r.path === unlimited.path;
    }),
    params(Math.ceil(RUNS / 10)),
  );
  t.pass();
});
