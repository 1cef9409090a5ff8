/**
 * The authz listener: decisions only, for a proxy that forwards by itself
 * (README, "Decisions for nginx, Caddy, Envoy and Traefik"). An authz request
 * names an original request (authz-request.ts); that request goes through the
 * same plan() as the proxy listener's, and the answer is the decision:
 *   allow → 200, empty body, the configured identity headers for the proxy to copy;
 *   deny  → the inline status, JSON body and WWW-Authenticate (respond/).
 * Nothing is ever forwarded from here. Every answer ends in one recordRequest()
 * labelled listener="authz".
 */
import { tokenCause } from '../telemetry/token-cause.js';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Config } from '../config/schema.js';
import type { Allow, Deny } from '../policy/decision.js';
import type { Action, RequestHead } from '../policy/plan.js';
import { sendError, writeSocketAnswer, type SocketAnswer } from '../respond/error.js';
import { nonCanonicalTarget, originalRequest, pathLimits } from './authz-request.js';
import type { Generation } from './generation.js';
import { createGuardedServer, type ListenerDeps } from './listener.js';

const LISTENER = 'authz';

/** The head plan() reads: the original method and target, with the authz request's own headers. */
function headFor(req: IncomingMessage, method: string, target: string): RequestHead {
  return { method, url: target, rawHeaders: req.rawHeaders, headers: req.headers, httpVersionMajor: req.httpVersionMajor, httpVersionMinor: req.httpVersionMinor };
}

/** Returns the http.Server, not yet listening. */
export function createAuthzListener(limits: Config['limits'], deps: ListenerDeps): Server {
  const { metrics, logger, recordRequest } = deps;

  function denied(req: IncomingMessage, res: ServerResponse, action: Deny, method: string, started: number, gen: Generation): void {
    const decisionSeconds = (performance.now() - started) / 1000;
    metrics.decision('deny', action.reason, decisionSeconds, LISTENER, action.cause ?? tokenCause(action.code));
    gen.answers.answer(res, action, req.method === 'HEAD');
    const totalMs = performance.now() - started;
    recordRequest({ method, route: action.route, status: action.status, reason: action.reason, code: action.code, decisionSeconds, upstreamMs: undefined, totalMs, listener: LISTENER });
  }

  /** 200, no body: the proxy forwards the original request, copying the identity headers. */
  function allowed(res: ServerResponse, allow: Allow, method: string, started: number, gen: Generation): void {
    const decisionSeconds = (performance.now() - started) / 1000;
    const wouldDeny = allow.wouldDeny;
    if (allow.deprecatedScopes !== undefined) for (const scope of allow.deprecatedScopes) metrics.deprecatedScopeUse(scope);
    if (wouldDeny === undefined) {
      metrics.decision('allow', 'allowed', decisionSeconds, LISTENER);
    } else {
      metrics.decision('shadow_deny', wouldDeny.reason, decisionSeconds, LISTENER);
      logger.info({ method, route: allow.route, would_deny: wouldDeny.reason, status_if_enforced: wouldDeny.status, code: wouldDeny.code, listener: LISTENER }, 'shadow deny');
    }
    // From the verified token only: a request header is never echoed into them.
    const identity = gen.headers.identityHeaders(allow.token);
    res.writeHead(200, ['cache-control', 'no-store', 'content-length', '0', ...identity]);
    res.end();
    const totalMs = performance.now() - started;
    recordRequest({ method, route: allow.route, status: 200, reason: 'allowed', code: undefined, decisionSeconds, upstreamMs: undefined, totalMs, listener: LISTENER });
  }

  /** Never throws: a failure while answering fails this one request (500), never the process. */
  function act(req: IncomingMessage, res: ServerResponse, action: Action, method: string, started: number, gen: Generation): void {
    try {
      if (action.kind === 'deny') denied(req, res, action, method, started, gen);
      else if (action.kind === 'discovery') {
        // The metadata document is public: the proxy may forward the request for it.
        res.writeHead(200, { 'cache-control': 'no-store', 'content-length': '0' });
        res.end();
        recordRequest({ method, route: action.route, status: 200, reason: 'allowed', code: undefined, decisionSeconds: 0, upstreamMs: undefined, totalMs: performance.now() - started, listener: LISTENER });
      } else if (action.kind === 'upgrade') {
        // The proxy performs the upgrade; the handshake's decision is the route's.
        allowed(res, action.allow, method, started, gen);
      } else if (action.kind === 'preflight') {
        if (action.forward !== undefined) allowed(res, action.forward, method, started, gen);
        else {
          // scopegate cannot answer the browser from here: the 2xx tells the proxy the preflight may
          // pass, and carries the CORS headers for a proxy that copies them (README, Browser apps).
          res.writeHead(204, action.headers as string[]);
          res.end();
          recordRequest({ method, route: action.route, status: 204, reason: 'cors_preflight', code: undefined, decisionSeconds: 0, upstreamMs: undefined, totalMs: performance.now() - started, listener: LISTENER });
        }
      } else allowed(res, action, method, started, gen);
    } catch (error) {
      logger.error({ err: error, route: action.route ?? 'unmatched', listener: LISTENER }, 'responding failed');
      sendError(res, 500, 'server_error', 'internal error while answering the request');
    }
  }

  function onRequest(req: IncomingMessage, res: ServerResponse): void {
    const started = performance.now();
    const gen = deps.current();
    const original = originalRequest(req.method ?? '', req.url ?? '', req.rawHeaders);
    if ('kind' in original) {
      act(req, res, original, req.method ?? '', started, gen);
      return;
    }
    const { method, target } = original;
    const refused = nonCanonicalTarget(target, pathLimits(gen.config));
    if (refused !== undefined) {
      act(req, res, refused, method, started, gen);
      return;
    }
    let action: Action | Promise<Action>;
    try {
      action = gen.planner.plan(headFor(req, method, target));
    } catch (error) {
      // plan() returns denials as values; a throw is a bug. Fail closed, keep serving.
      logger.error({ err: error, listener: LISTENER }, 'decide threw');
      sendError(res, 500, 'server_error', 'internal error while authorizing the request');
      return;
    }
    if (!(action instanceof Promise)) {
      act(req, res, action, method, started, gen);
      return;
    }
    action.then(
      (a) => act(req, res, a, method, started, gen),
      (error: unknown) => {
        logger.error({ err: error, listener: LISTENER }, 'decide rejected');
        sendError(res, 500, 'server_error', 'internal error while authorizing the request');
      },
    );
  }

  function answerOnSocket(socket: Socket, method: string, answer: SocketAnswer): void {
    writeSocketAnswer(socket, answer);
    metrics.decision('deny', 'bad_request', 0, LISTENER);
    recordRequest({ method, route: undefined, status: answer.status, reason: 'bad_request', code: answer.code, decisionSeconds: 0, upstreamMs: undefined, totalMs: 0, listener: LISTENER });
  }

  return createGuardedServer(limits, onRequest, answerOnSocket);
}
