/** The text `scopegate explain` prints: five numbered sections, labels aligned, no color unless asked. */
import { formatDpopStep } from './dpop.js';
import type { Explanation, RequirementStep, ResponseView, TokenDetails } from './types.js';

export interface FormatOptions {
  /** ANSI bold/green/red for headings and verdicts (the CLI turns it on for a TTY only). */
  readonly color?: boolean;
  /** "Now" for expiry arithmetic, seconds since epoch (tests pin it). */
  readonly nowS?: number;
}

const LABEL = 17;
const INDENT = '   ';

function rows(rs: readonly (readonly string[])[], indent = INDENT): string[] {
  const widths: number[] = [];
  for (const r of rs) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rs.map((r) => indent + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] as number))).join('  ').trimEnd());
}

function duration(s: number): string {
  const a = Math.abs(Math.round(s));
  if (a < 60) return `${a}s`;
  if (a < 3600) return `${Math.floor(a / 60)}m ${a % 60}s`;
  if (a < 86400) return `${Math.floor(a / 3600)}h ${Math.floor((a % 3600) / 60)}m`;
  return `${Math.floor(a / 86400)}d ${Math.floor((a % 86400) / 3600)}h`;
}

function when(epochS: number, nowS: number): string {
  const iso = new Date(epochS * 1000).toISOString().replace('.000Z', 'Z');
  const delta = epochS - nowS;
  return `${iso} (${delta >= 0 ? `in ${duration(delta)}` : `${duration(delta)} ago`})`;
}

function response(r: ResponseView, indent: string): string[] {
  const lines = [r.statusLine, ...r.headers.map(([k, v]) => `${k}: ${v}`), ''];
  lines.push(r.bodySent ? r.body : `(body not sent for HEAD: ${r.body})`);
  return lines.map((l) => (l === '' ? '' : indent + l));
}

/** Bold, green and red for headings and verdicts: identity functions unless color is on. */
interface Paint {
  readonly bold: (s: string) => string;
  readonly green: (s: string) => string;
  readonly red: (s: string) => string;
}

function paint(color: boolean): Paint {
  return {
    bold: (s) => (color ? `\x1b[1m${s}\x1b[22m` : s),
    green: (s) => (color ? `\x1b[32m${s}\x1b[39m` : s),
    red: (s) => (color ? `\x1b[31m${s}\x1b[39m` : s),
  };
}

function kv(label: string, value: string): string {
  return `${INDENT}${label.padEnd(LABEL)}${value}`;
}

export function formatExplanation(e: Explanation, options: FormatOptions = {}): string {
  const p = paint(options.color === true);
  const nowS = options.nowS ?? Math.floor(Date.now() / 1000);
  const out: string[] = [];

  out.push(p.bold(`scopegate explain  ${e.method} ${e.target}`));
  out.push(kv('config', `${e.config.file} (sha256 ${e.config.hash.slice(0, 12)}), mode ${e.config.mode}`));
  out.push(...canonicalSection(e, p));
  out.push(...routeSection(e, p));
  out.push(...requirementSection(e, p));
  out.push(...tokenSection(e, p, nowS));
  out.push(...outcomeSection(e, p));

  if (e.problems.length > 0) {
    out.push('', p.bold(p.red('BUG: the trace and the real decision disagree')));
    for (const problem of e.problems) out.push(`${INDENT}${p.red(problem)}`);
  }
  out.push('', `exit ${e.outcome.allow ? '0 (allowed)' : '1 (denied)'}`);
  return out.join('\n') + '\n';
}

/** 1. Canonical path. */
function canonicalSection(e: Explanation, p: Paint): string[] {
  const out: string[] = ['', p.bold('1. Canonical path')];
  const c = e.canonical;
  out.push(kv('raw target', c.raw));
  if (c.ok) {
    out.push(kv('canonical path', c.path + (c.raw.split('?')[0] === c.path ? '' : '   (normalized: this is what is matched and forwarded)')));
    out.push(kv('query', c.query === '' ? '(none)' : `${c.query}   (forwarded untouched)`));
  } else {
    out.push(kv('refused', p.red(`400 ${c.code}: ${c.message}`)));
  }
  return out;
}

/** 2. Route match. */
function routeSection(e: Explanation, p: Paint): string[] {
  const r = e.route;
  const out: string[] = ['', p.bold(`2. Route match${r === undefined ? '' : `: ${r.method} ${r.path}`}`)];
  if (e.preempted !== undefined) {
    out.push(`${INDENT}not reached: ${e.preempted}`);
  } else if (r === undefined) {
    out.push(`${INDENT}not reached: the path was refused`);
  } else {
    if (r.candidates.length === 0) {
      out.push(`${INDENT}no route template matches this path (any method)`);
    } else {
      out.push(`${INDENT}routes whose template matches the path (any method), most specific first:`);
      out.push(...rows(r.candidates.map((cand, i) => [`${cand.winner ? '→' : ' '} ${i + 1}.`, cand.methods.join(','), cand.template, cand.why]), INDENT + '  '));
    }
    if (r.misses.length > 0) {
      out.push(r.result.kind === 'found' ? `${INDENT}more specific branches tried first, then abandoned (backtracking):` : `${INDENT}closest routes:`);
      out.push(...rows(r.misses.map((m) => ['-', m.key, m.why]), INDENT + '  '));
      if (r.moreMisses > 0) out.push(`${INDENT}  … and ${r.moreMisses} more`);
    }
    const res = r.result;
    if (res.kind === 'found') {
      out.push(kv('result', p.green(`${res.template}   (route "${res.key}")`)));
      if (res.headFallback) out.push(kv('', 'HEAD is served by this route\'s GET (HEAD→GET fallback)'));
      if (res.params.length > 0) out.push(kv('params', res.params.map(([n, v]) => `${n} = ${JSON.stringify(v)}`).join(', ')));
    } else if (res.kind === 'no_route') {
      out.push(kv('result', p.red('404: no route matches this path')));
    } else {
      out.push(kv('result', p.red(`405: ${r.method} is not served on ${res.template}; Allow: ${res.allow.join(', ')}`)));
    }
    out.push(kv('compiled matcher', r.matcher.agrees ? `agrees (${r.matcher.summary})` : p.red(`DISAGREES: ${r.matcher.summary} — this is a bug`)));
  }
  return out;
}

/** 3. Requirement. */
function requirementSection(e: Explanation, p: Paint): string[] {
  const q = e.requirement;
  const out: string[] = ['', p.bold(`3. Requirement${q === undefined ? '' : `: ${q.text}`}`)];
  if (q === undefined) {
    out.push(`${INDENT}not reached: ${e.preempted !== undefined ? 'answered before routing' : 'no route'}`);
    return out;
  }
  const kindText: Record<string, string> = {
    none: 'public: no token is read at all',
    token: 'any valid token, no scope needed',
    all_of: q.scopes.length === 1 ? 'the token needs this scope' : 'the token needs every scope listed',
    any_of: 'the token needs at least one scope listed',
  };
  out.push(kv('kind', `${q.kind}: ${kindText[q.kind] ?? q.kind}`));
  if (q.shadow) out.push(kv('mode', 'shadow (report-only): a policy deny is logged and the request forwarded anyway'));
  if (q.respond !== undefined) out.push(kv('answered by', `scopegate itself (${q.respond}), never forwarded`));
  if (q.scopes.length > 0) out.push(...scopeTable(q, p));
  for (const c of q.conditions) {
    const value = c.value === undefined ? '(none)' : JSON.stringify(c.value);
    out.push(kv(`where ${c.param}`, `${value} against claim ${c.claim}: ${c.holds ? p.green(`✓ ${c.why}`) : p.red(`✗ ${c.why}`)}`));
  }
  if (q.satisfied !== undefined) out.push(kv('verdict', q.satisfied ? p.green('satisfied') : p.red('not satisfied')));
  else if (q.needsToken) out.push(kv('verdict', 'no token scopes to check'));
  return out;
}

/** The required scopes of section 3, one row each (only called when there is at least one). */
function scopeTable(q: RequirementStep, p: Paint): string[] {
  const out: string[] = [];
  out.push(kv('scope matching', q.matching === 'hierarchical' ? 'hierarchical: a scope or any whole-segment prefix of it satisfies it' : 'exact: only the scope itself satisfies it'));
  const withToken = q.scopes[0]?.granted !== undefined;
  const anyAlias = q.scopes.some((s) => s.aliases.length > 0);
  const header = ['required', 'from', 'satisfied by any of', ...(anyAlias ? ['deprecated aliases accepted'] : []), ...(withToken ? ['token'] : [])];
  out.push(
    ...rows([
      header,
      ...q.scopes.map((s) => [
        s.scope,
        s.route && s.catalogue ? 'route + catalogue' : s.catalogue ? 'catalogue (required: true)' : 'route',
        s.satisfiedBy.join(', '),
        ...(anyAlias ? [s.aliases.length === 0 ? '-' : s.aliases.join(', ')] : []),
        ...(s.granted === undefined ? [] : [s.granted.length > 0 ? p.green(`✓ has ${s.granted.join(', ')}`) : p.red('✗ missing')]),
      ]),
    ]),
  );
  if (q.kind === 'any_of' && q.scopes.some((s) => s.catalogue)) out.push(`${INDENT}(one of the route's scopes, and every catalogue-required one)`);
  return out;
}

/** 4. Token. */
function tokenSection(e: Explanation, p: Paint, nowS: number): string[] {
  const t = e.token;
  const tokenTitle = {
    none: 'none',
    not_checked: 'given, not checked',
    hypothetical: 'hypothetical (--scopes)',
    valid: 'verified (--token)',
    invalid: t.kind === 'invalid' && t.code === 'ERR_AUTH_KEYS_UNAVAILABLE' ? 'cannot be checked (--token)' : 'invalid (--token)',
  }[t.kind];
  const out: string[] = ['', p.bold(`4. Token: ${tokenTitle}`)];
  switch (t.kind) {
    case 'none':
      out.push(`${INDENT}the request carries no Authorization header`);
      break;
    case 'not_checked':
      out.push(`${INDENT}nothing reads the token on this request, so it is not verified`);
      break;
    case 'hypothetical':
      out.push(`${INDENT}a valid token is assumed: signature, issuer, audience and expiry are NOT checked in this mode`);
      out.push(kv('scopes', t.scopes.length === 0 ? '(none)' : t.scopes.join(' ')));
      break;
    case 'valid': {
      const d: TokenDetails = t.token;
      out.push(kv('result', p.green('valid: signature, issuer, audience, algorithm and expiry checked')));
      out.push(kv('issuer', d.issuer));
      out.push(kv('subject', d.subject ?? '(no sub)'));
      out.push(kv('client', d.clientId ?? '(no client_id or azp)'));
      if (d.issuedAt !== undefined) out.push(kv('issued', when(d.issuedAt, nowS)));
      out.push(kv('expires', when(d.expiresAt, nowS)));
      out.push(kv('scopes', d.scopes.length === 0 ? '(none)' : d.scopes.join(' ')));
      break;
    }
    case 'invalid':
      out.push(kv('result', p.red(`${t.code}: ${t.message}`)));
      if (t.mismatch !== undefined) {
        out.push(kv(`presented ${t.mismatch.claim}`, t.mismatch.presented));
        out.push(kv('expected', t.mismatch.expected.join(', ')));
        if (t.mismatch.trailingSlashOnly) out.push(kv('', 'differs only by a trailing slash'));
      }
      break;
  }
  for (const j of t.jwks) out.push(kv('jwks fetch', j));
  if (t.note !== undefined) out.push(kv('read by decide', `no: ${t.note}`));
  if (e.dpop !== undefined) out.push(`${INDENT}DPoP proof (--dpop), checked in this order:`, ...formatDpopStep(e.dpop, INDENT + '  ', p));
  return out;
}

/** 5. Outcome. */
function outcomeSection(e: Explanation, p: Paint): string[] {
  const o = e.outcome;
  const out: string[] = [];
  if (o.allow) {
    const title = o.answered !== undefined ? 'ALLOW, answered by scopegate' : o.wouldDeny === undefined ? 'ALLOW' : 'FORWARDED (shadow mode)';
    out.push('', p.bold(`5. Outcome: ${p.green(title)}`));
    if (o.deprecatedScopes.length > 0) {
      out.push(kv('deprecated', `accepted through deprecated scope${o.deprecatedScopes.length > 1 ? 's' : ''} ${o.deprecatedScopes.join(', ')} (counted in scopegate_deprecated_scope_use_total)`));
    }
    if (o.answered !== undefined) {
      out.push(kv('answered by', o.answered.by));
      out.push(`${INDENT}the client receives:`);
      out.push(...response(o.answered.response, INDENT + '  '));
    } else {
      out.push(kv('forwarded to', e.config.upstream));
      out.push(`${INDENT}  ${o.method} ${o.path}${o.query}`);
      for (const [k, v] of o.identityHeaders) out.push(`${INDENT}  ${k}: ${v}`);
      out.push(`${INDENT}  (plus the client's headers: Authorization unchanged; hop-by-hop, method-override and client-sent identity headers removed; X-Forwarded-* set)`);
    }
    if (o.wouldDeny !== undefined) {
      out.push(kv('enforce mode', p.red(`would deny: ${o.wouldDeny.deny.status} ${o.wouldDeny.deny.reason} (${o.wouldDeny.deny.code}); logged as "shadow deny"`)));
      out.push(`${INDENT}the response enforce mode would send:`);
      out.push(...response(o.wouldDeny.response, INDENT + '  '));
    }
  } else {
    out.push('', p.bold(`5. Outcome: ${p.red(`DENY ${o.deny.status} ${o.deny.reason}`)}`));
    out.push(kv('refused at', o.step));
    out.push(kv('code', o.deny.code));
    out.push(`${INDENT}the client receives (the upstream never sees the request):`);
    out.push(...response(o.response, INDENT + '  '));
  }
  return out;
}
