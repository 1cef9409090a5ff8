/**
 * The admin page (README, "Admin page"): one self-contained HTML document,
 * no external assets, its one style sheet and one script allowed by their
 * SHA-256 under a strict Content-Security-Policy. It only reads `/status`;
 * nothing on it changes anything.
 */
import { createHash } from 'node:crypto';
import { PAGE_SCRIPT } from './page-script.js';

const PAGE_STYLE = `
:root { color-scheme: light dark; --ok: #1a7f37; --bad: #cf222e; --line: #8884; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 auto; padding: 12px; max-width: 1400px; }
header { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: baseline; }
h1 { font-size: 20px; margin: 0; }
h2 { font-size: 16px; margin: 24px 0 8px; border-bottom: 1px solid var(--line); }
.muted, #updated { color: #888; }
.badge { padding: 2px 8px; border-radius: 10px; color: #fff; }
.badge.ok { background: var(--ok); } .badge.bad { background: var(--bad); }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 4px 8px; border-bottom: 1px solid var(--line); overflow-wrap: anywhere; }
tr.bad td:nth-child(2) { color: var(--bad); font-weight: 600; } tr.ok td:nth-child(2) { color: var(--ok); }
tr.dim td { opacity: .7; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0; }
dt { color: #888; } dd { margin: 0; overflow-wrap: anywhere; }
@media (max-width: 640px) {
  thead { display: none; }
  table, tbody, tr, td { display: block; width: 100%; }
  tr { border-bottom: 2px solid var(--line); padding: 4px 0; }
  td { border: 0; padding: 2px 4px; }
  td::before { content: attr(data-label) ": "; color: #888; }
  dl { grid-template-columns: 1fr; } dd { margin-bottom: 6px; }
}
`;

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/**
 * Nothing but the page's own script and style, `/status` from its own origin and
 * an empty icon (so the browser does not ask for /favicon.ico). No frames, forms or base.
 */
export const PAGE_CSP = [
  "default-src 'none'",
  `script-src ${sha256(PAGE_SCRIPT)}`,
  `style-src ${sha256(PAGE_STYLE)}`,
  "connect-src 'self'",
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const section = (id: string, title: string): string => `<section><h2>${title}</h2><div class="scroll" id="${id}"><p class="muted">loading…</p></div></section>`;

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>scopegate admin</title>
<link rel="icon" href="data:,">
<style>${PAGE_STYLE}</style>
</head>
<body>
<header><h1>scopegate</h1><span id="ready" class="badge">…</span><span id="updated">loading</span></header>
<noscript><p>This page needs JavaScript; the same data is at <a href="status">/status</a> as JSON.</p></noscript>
${section('config', 'Live config')}
${section('listeners', 'Listeners')}
${section('routes', 'Routes')}
${section('scopes', 'Scope catalogue')}
${section('issuers', 'Issuers and signing keys')}
${section('counts', 'Requests per reason since start')}
${section('denials', 'Recent denials')}
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;

/** Headers of the page response: the CSP and the usual hardening for a page that only reads. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': PAGE_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};
