/**
 * The admin page's script, served inline under a CSP hash (admin/page.ts). It
 * fetches /status and builds every table with textContent: a string from the
 * config (a description, a route) can never become markup. Plain ES2017 in a
 * string, so the page needs no build step and no file beside it.
 */
export const PAGE_SCRIPT = `
'use strict';
(function () {
  var REFRESH_MS = 5000;
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function clear(id) { var n = document.getElementById(id); while (n.firstChild) n.removeChild(n.firstChild); return n; }
  function ago(iso) {
    if (!iso) return 'never';
    var s = Math.round((Date.now() - Date.parse(iso)) / 1000);
    var when = s >= 0 ? s + ' s ago' : 'in ' + (-s) + ' s';
    return iso.replace('T', ' ').replace(/\\.\\d+Z$/, 'Z') + ' (' + when + ')';
  }
  function table(id, head, rows, empty) {
    var host = clear(id);
    if (rows.length === 0) { host.appendChild(el('p', empty, 'muted')); return; }
    var t = el('table'); var thead = el('thead'); var tr = el('tr');
    head.forEach(function (h) { tr.appendChild(el('th', h)); });
    thead.appendChild(tr); t.appendChild(thead);
    var body = el('tbody');
    rows.forEach(function (r) {
      var row = el('tr', null, r.cls);
      r.cells.forEach(function (c, i) { var td = el('td', c); td.setAttribute('data-label', head[i]); row.appendChild(td); });
      body.appendChild(row);
    });
    t.appendChild(body); host.appendChild(t);
  }
  function pairs(id, list) {
    var host = clear(id); var dl = el('dl');
    list.forEach(function (p) { dl.appendChild(el('dt', p[0])); dl.appendChild(el('dd', p[1])); });
    host.appendChild(dl);
  }
  function yn(b) { return b ? 'yes' : ''; }
  function render(s) {
    document.getElementById('ready').textContent = s.ready.ready ? 'ready' : 'not ready: ' + (s.ready.reason || '');
    document.getElementById('ready').className = s.ready.ready ? 'badge ok' : 'badge bad';
    pairs('config', [
      ['file', s.config.file], ['sha256', s.config.sha256], ['loaded', ago(s.config.loaded_at)],
      ['generation', s.config.generation + ' (' + s.config.reloads + ' reloads)'], ['mode', s.config.mode],
      ['scope matching', s.config.scope_matching], ['upstream', s.upstream || 'none (authz only)'], ['started', ago(s.started_at)]
    ]);
    table('listeners', ['listener', 'address'], s.listeners.map(function (l) { return { cells: [l.name, l.url] }; }), 'none');
    table('routes', ['methods', 'path', 'requires', 'mode'], s.routes.map(function (r) {
      var mode = r.mode + (r.respond ? ', answers ' + r.respond : '') + (r.sender_constrained ? ', sender-constrained' : '');
      return { cells: [r.methods.join(','), r.path, r.requirement, mode] };
    }), 'no routes');
    table('scopes', ['scope', 'display name', 'description', 'required', 'default off', 'deprecated'], (s.scopes || []).map(function (c) {
      var dep = c.deprecated ? (c.replaced_by ? 'yes \\u2192 ' + c.replaced_by : 'yes') : '';
      return { cells: [c.name, c.display_name || '', c.description || '', yn(c.required), yn(c.default_off), dep], cls: c.deprecated ? 'dim' : '' };
    }), s.scopes === null ? 'no scope catalogue in this config (any scope string is accepted)' : 'empty catalogue');
    table('issuers', ['issuer', 'state', 'keys', 'kids', 'last fetch', 'last error', 'next refresh'], s.issuers.map(function (i) {
      var state = i.loaded ? (i.last_error ? 'stale (serving cached keys)' : 'healthy') : 'no keys';
      return { cells: [i.issuer, state, i.keys, i.kids.join(', '), ago(i.last_fetch_at), i.last_error || '', ago(i.next_refresh_at)], cls: i.loaded && !i.last_error ? 'ok' : 'bad' };
    }).concat(s.introspection ? [{ cells: ['introspection: ' + s.introspection.endpoint, 'client ' + s.introspection.client_id, '', '', '', '', ''] }] : []), 'no JWT issuers');
    var counts = Object.keys(s.denials.counts).map(function (k) { return { cells: [k, s.denials.counts[k]] }; });
    table('counts', ['reason', 'requests since start'], counts, 'no requests yet');
    table('denials', ['time', 'status', 'reason', 'cause', 'method', 'route', 'path', 'client'], s.denials.recent.map(function (d) {
      var cause = d.cause || (d.missing_scopes ? 'missing ' + d.missing_scopes.join(' ') : d.code || '');
      return { cells: [ago(d.time), d.status, d.reason, cause, d.method, d.route || '(no route)', d.path || '', d.client_id || d.sub || ''] };
    }), 'no denials kept (ring of ' + s.denials.capacity + ')');
  }
  function refresh() {
    fetch('status', { cache: 'no-store', headers: { accept: 'application/json' } })
      .then(function (r) { if (!r.ok) throw new Error('HTTP ' + r.status); return r.json(); })
      .then(function (s) { render(s); document.getElementById('updated').textContent = 'updated ' + new Date().toISOString(); })
      .catch(function (e) { document.getElementById('updated').textContent = 'refresh failed: ' + e.message + ' (retrying)'; })
      .then(function () { setTimeout(refresh, REFRESH_MS); });
  }
  refresh();
})();
`;
