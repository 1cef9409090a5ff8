/**
 * `scopegate explain --config F METHOD PATH [--token JWT | --scopes "a b"]`:
 * the command line of explain/explain.ts. Parses its own options (two
 * positionals, --token, --scopes), loads the config, prints the explanation.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { readConfigFile } from '../config/load.js';
import { formatConfigIssue } from '../errors.js';
import { explainRequest } from '../explain/explain.js';
import { formatExplanation } from '../explain/format.js';
import { configPath, EXIT_FAILED, EXIT_OK, EXIT_USAGE, type CommandIo, type Output } from './io.js';

export const EXPLAIN_USAGE = `Usage:
  scopegate explain [--config FILE] METHOD PATH [--token JWT | --scopes "a b"]
  scopegate explain [--config FILE] METHOD PATH --token JWT --dpop PROOF
  scopegate explain [--config FILE] OPTIONS PATH --origin ORIGIN --request-method M

Explain how scopegate would decide one request, step by step: the canonical
path, every route matching it and why the winner wins, the scope requirement,
the token, and the exact response the client would get (or what would be
forwarded). Nothing is sent to the upstream.

  METHOD PATH      the request line, e.g. GET '/orgs/acme/projects?page=2'
                   (PATH is the raw request target; quote it in the shell)
  --token JWT      a real access token, verified as the server would: this
                   fetches the issuer's JWKS over the network (bounded by
                   auth.jwks.timeout_ms, default 5000 ms). "Bearer " in front
                   is accepted. --token - reads the token from stdin, which
                   keeps it out of your shell history and the process list.
  --scopes "a b"   a hypothetical valid token granting these scopes (space-
                   separated); its signature, issuer, audience and expiry are
                   NOT checked in this mode
  neither          the request carries no Authorization header
  --dpop PROOF     with --token: send the token as "Authorization: DPoP" with
                   this proof in a DPoP header (auth.dpop), and show each
                   proof check and its outcome (a proof is single use: mint a
                   fresh one for the METHOD and PATH explained)
  --origin O, --request-method M
                   with OPTIONS: a CORS preflight from origin O asking to
                   send M (see the config's cors: section)
  --config FILE    defaults to $SCOPEGATE_CONFIG, else config/scopegate.yaml

Exit codes: 0 the request would be forwarded (allowed, or forwarded in shadow
mode), 1 denied, 2 usage error or unusable config.
`;

export interface ExplainOptions extends CommandIo {
  /** Config file; undefined: $SCOPEGATE_CONFIG, else config/scopegate.yaml (as every other command). */
  readonly config?: string | undefined;
  /** The positionals after `explain`: [METHOD, PATH]. */
  readonly positionals: readonly string[];
  readonly token?: string | undefined;
  readonly scopes?: string | undefined;
  readonly origin?: string | undefined;
  readonly requestMethod?: string | undefined;
  readonly dpop?: string | undefined;
  readonly help?: boolean | undefined;
}

function usageError(err: Output, message: string): number {
  err.write(`scopegate explain: ${message} (usage error, exit 2)\n\n${EXPLAIN_USAGE}`);
  return EXIT_USAGE;
}

/** `scopegate explain` with its options already parsed. Resolves with the exit code: 0 allowed, 1 denied, 2 usage. */
export async function runExplain(options: ExplainOptions): Promise<number> {
  const out = options.stdout ?? process.stdout;
  const err = options.stderr ?? process.stderr;
  if (options.help === true) {
    out.write(EXPLAIN_USAGE);
    return EXIT_OK;
  }
  const [rawMethod, target, ...extra] = options.positionals;
  if (rawMethod === undefined || target === undefined) return usageError(err, 'METHOD and PATH are required');
  if (extra.length > 0) return usageError(err, `unexpected argument: ${extra[0]}`);
  if (options.token !== undefined && options.scopes !== undefined) return usageError(err, '--token and --scopes are mutually exclusive');
  if (options.dpop !== undefined && options.token === undefined) return usageError(err, '--dpop needs --token: a proof is bound to a real DPoP-bound access token');
  if (!/^[A-Za-z]+$/.test(rawMethod)) return usageError(err, `not an HTTP method: ${JSON.stringify(rawMethod)}`);
  // Methods are case-sensitive on the wire; typing `get` for GET is the common slip, so it is upper-cased here.
  const method = rawMethod.toUpperCase();

  let token = options.token;
  if (token === '-') token = (options.readStdin ?? (() => readFileSync(0, 'utf8')))();
  if (token !== undefined) {
    token = token.trim();
    if (/^bearer /i.test(token)) token = token.slice(7).trim();
    if (token === '') return usageError(err, '--token is empty');
  }
  const scopes = options.scopes === undefined ? undefined : options.scopes.split(/\s+/).filter((s) => s !== '');

  const file = configPath(options.config);
  const { config, issues } = readConfigFile(file);
  for (const issue of issues) err.write(`${formatConfigIssue(issue)}\n`);
  if (config === undefined) {
    err.write(`${file}: invalid, not loaded (exit 2: nothing to explain against)\n`);
    return EXIT_USAGE;
  }

  const cors = { ...(options.origin !== undefined ? { origin: options.origin } : {}), ...(options.requestMethod !== undefined ? { requestMethod: options.requestMethod } : {}) };
  const dpop = options.dpop === undefined ? {} : { dpop: options.dpop.trim() };
  const explanation = await explainRequest(config, { method, target, ...(token !== undefined ? { token } : {}), ...(scopes !== undefined ? { scopes } : {}), ...cors, ...dpop });
  out.write(formatExplanation(explanation, { color: 'isTTY' in out && out.isTTY === true }));
  for (const p of explanation.problems) err.write(`scopegate explain: BUG: ${p}\n`);
  return explanation.outcome.allow ? EXIT_OK : EXIT_FAILED;
}

/** `scopegate explain ARGS…` from raw argv (everything after the word `explain`). */
export async function run(argv: readonly string[], io: CommandIo = {}): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        token: { type: 'string' },
        scopes: { type: 'string' },
        origin: { type: 'string' },
        'request-method': { type: 'string' },
        dpop: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    return usageError(io.stderr ?? process.stderr, (error as Error).message);
  }
  const { values, positionals } = parsed;
  return runExplain({ ...io, config: values.config, positionals, token: values.token, scopes: values.scopes, origin: values.origin, requestMethod: values['request-method'], dpop: values.dpop, help: values.help });
}
