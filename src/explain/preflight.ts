/**
 * `scopegate explain OPTIONS /path --origin O --request-method M`: a CORS
 * preflight (README, "Browser apps (CORS) and WebSocket"). plan() answers it
 * before any token is read; this shows that answer (or its deny) with the
 * headers the listener adds for an allowed Origin.
 */
import { STATUS_CODES } from 'node:http';
import type { Cors, PreflightAction } from '../respond/cors.js';
import type { Deny } from '../policy/decision.js';
import { denyStep } from './steps.js';
import type { CanonicalStep, Explanation, ExplainInput, ResponseView } from './types.js';

function pairs(flat: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i] as string, flat[i + 1] as string]);
  return out;
}

/** `written` (the deny as answer() writes it, or nothing for a 204) with the per-origin headers the listener sets first. */
function withCors(cors: Cors, origin: string, status: number, written: ResponseView | undefined, extra: readonly string[]): ResponseView {
  const own = pairs(cors.responseHeaders(origin) ?? []);
  return {
    status,
    statusLine: `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`.trimEnd(),
    headers: [...own, ...pairs(extra), ...(written?.headers ?? [])],
    body: written?.body ?? '',
    bodySent: true,
  };
}

export function explainPreflight(
  input: ExplainInput & { readonly origin: string; readonly requestMethod: string },
  summary: Explanation['config'],
  canonical: CanonicalStep,
  action: PreflightAction | Deny,
  cors: Cors,
  respond: (deny: Deny) => ResponseView,
): Explanation {
  const { method, target, origin, requestMethod } = input;
  const preempted = `a CORS preflight: Origin ${origin} asks to send ${requestMethod}; answered before any token is read (browsers send none)`;
  const token = { kind: 'none', read: false, note: 'a preflight carries no token', jwks: [] } as const;
  const base = { method, target, config: summary, canonical, preempted, route: undefined, requirement: undefined, token, problems: [] };
  if (action.kind === 'deny') {
    return { ...base, decision: action, outcome: { allow: false, deny: action, step: denyStep(action), response: withCors(cors, origin, action.status, respond(action), []) } };
  }
  const path = canonical.ok ? canonical.path : target;
  const query = canonical.ok ? canonical.query : '';
  const outcome = { allow: true, method, path, query, route: action.route, identityHeaders: [], wouldDeny: undefined, deprecatedScopes: [] } as const;
  if (action.forward !== undefined) {
    return { ...base, decision: action.forward, outcome: { ...outcome, answered: undefined } };
  }
  const response = withCors(cors, origin, 204, undefined, action.headers);
  return { ...base, decision: undefined, outcome: { ...outcome, answered: { by: 'scopegate: CORS preflight (never forwarded)', response } } };
}
