// Shared by the agent console and the settings page: the agent token and
// its sign-in form, API calls, the agent stream, DOM building and formatting.
// Everything hangs off window.SBConsole; no other globals.
(() => {
  'use strict';

  const TOKEN_KEY = 'switchboard.agentToken';
  const signOutHooks = [];
  let me = null; // {id, name} of the signed-in agent, from GET /api/v1/agent/me

  // el builds an element. Strings among the children become text nodes, so
  // data never passes through an HTML parser.
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === false || v == null) continue;
      if (k === 'class') node.className = v;
      else node.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat()) {
      if (c == null || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  function token() {
    try { return localStorage.getItem(TOKEN_KEY) || ''; } catch (_) { return ''; }
  }

  function setToken(t) {
    try {
      if (t) localStorage.setItem(TOKEN_KEY, t);
      else localStorage.removeItem(TOKEN_KEY);
    } catch (_) { /* private mode: the token lasts for this page */ }
  }

  // whoami asks who the token belongs to (and so checks it): {id, name,
  // online, online_names}.
  async function whoami() {
    const data = await api('GET', '/api/v1/agent/me');
    me = { id: data.id, name: data.name };
    return data;
  }

  class APIError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  async function api(method, path, body) {
    const headers = { Accept: 'application/json', Authorization: 'Bearer ' + token() };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let res;
    try {
      res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (_) {
      throw new APIError(0, 'The server could not be reached.');
    }
    let data = null;
    if (res.status !== 204) {
      try { data = await res.json(); } catch (_) { data = null; }
    }
    if (res.status === 401) {
      signOut('Wrong token: the server did not accept it. Check it and try again.');
      throw new APIError(401, (data && data.error) || 'unauthorized');
    }
    if (!res.ok) throw new APIError(res.status, (data && data.error) || 'HTTP ' + res.status);
    return data;
  }

  // ---- sign-in ----

  const $ = (id) => document.getElementById(id);

  // signedIn shows what only a signed-in agent sees (tabs, connection,
  // sign-out) and hides the sign-in form, or the other way round.
  function signedIn(on) {
    for (const node of document.querySelectorAll('[data-signed-in]')) node.hidden = !on;
    $('app').hidden = !on;
    $('login').hidden = on;
  }

  function showLogin(message) {
    signedIn(false);
    const err = $('login-error');
    err.textContent = message || '';
    err.hidden = !message;
    $('agent-token').value = '';
    $('agent-token').focus();
  }

  function signOut(message) {
    setToken('');
    me = null;
    for (const fn of signOutHooks) fn();
    showLogin(message);
  }

  // start shows the sign-in form until a token is accepted by ready(), which
  // must make an authenticated call (a 401 from it brings the form back);
  // shown() runs once the page is visible.
  function start(ready, shown) {
    let busy = false;
    async function attempt() {
      if (busy) return;
      busy = true;
      $('agent-login').disabled = true;
      try {
        await ready();
        signedIn(true);
        if (shown) shown();
      } catch (err) {
        if (err.status !== 401) showLogin(err.message || 'Something went wrong.');
      } finally {
        busy = false;
        $('agent-login').disabled = false;
      }
    }
    $('login-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const t = $('agent-token').value.trim();
      if (!t) { showLogin('Enter your agent token.'); return; }
      setToken(t);
      attempt();
    });
    $('logout').addEventListener('click', () => signOut(''));
    if (token()) attempt();
    else showLogin('');
  }

  // ---- agent stream ----

  // stream keeps a WebSocket to path open, reconnecting with backoff.
  // onState(true|false) reports whether it is connected.
  function stream(path, onEvent, onState) {
    let sock = null;
    let retries = 0;
    let timer = 0;
    let stopped = false;
    function connect() {
      if (stopped || !token()) return;
      const url = new URL(path, location.href);
      url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
      url.searchParams.set('token', token());
      const s = new WebSocket(url.href);
      sock = s;
      s.addEventListener('open', () => { retries = 0; onState(true); });
      s.addEventListener('message', (e) => {
        let ev = null;
        try { ev = JSON.parse(e.data); } catch (_) { return; }
        onEvent(ev);
      });
      s.addEventListener('close', () => {
        if (sock !== s) return;
        sock = null;
        onState(false);
        if (stopped) return;
        const delay = Math.min(30000, 1000 * 2 ** retries) * (0.75 + Math.random() / 2);
        retries++;
        timer = setTimeout(connect, delay);
      });
    }
    function drop() {
      clearTimeout(timer);
      if (sock) { const s = sock; sock = null; s.close(); }
    }
    // Leaving the page closes the stream at once (a page kept in the
    // back/forward cache would otherwise hold it open), so an agent who
    // left is not shown online; coming back opens it again.
    function onShow(e) { if (e.persisted && !stopped && !sock) connect(); }
    window.addEventListener('pagehide', drop);
    window.addEventListener('pageshow', onShow);
    connect();
    return {
      stop() {
        stopped = true;
        window.removeEventListener('pagehide', drop);
        window.removeEventListener('pageshow', onShow);
        drop();
      },
    };
  }

  // ---- formatting ----

  const TRIGGERS = {
    explicit_request: 'Asked for a person',
    restricted_topic: 'Restricted topic',
    frustration: 'Frustration',
    ai_decision: 'AI could not help',
    failed_turns: 'Unproductive turns',
  };

  const STATES = {
    pending_human: 'waiting', waiting: 'waiting',
    human: 'active', active: 'active',
    resolved: 'resolved', ai: 'with AI',
  };

  function humanize(s) {
    return String(s || '').replace(/[_-]+/g, ' ').trim();
  }

  function time(iso) {
    const d = iso ? new Date(iso) : null;
    if (!d || isNaN(d)) return '';
    const sameDay = d.toDateString() === new Date().toDateString();
    return sameDay
      ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
      : d.toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
  }

  function since(iso) {
    const d = iso ? new Date(iso) : null;
    if (!d || isNaN(d)) return '';
    const min = Math.floor((Date.now() - d.getTime()) / 60000);
    if (min < 1) return 'just now';
    if (min < 60) return min + ' min';
    const h = Math.floor(min / 60);
    if (h < 24) return h + ' h ' + (min % 60) + ' min';
    return Math.floor(h / 24) + ' d ' + (h % 24) + ' h';
  }

  function ago(iso) {
    const s = since(iso);
    return s && s !== 'just now' ? s + ' ago' : s;
  }

  const REASONS = {
    customer_request: 'Customer asked for a person',
    restricted_topic: 'Restricted topic',
    frustration: 'Frustration',
    unproductive_conversation: 'Unproductive conversation',
    missing_knowledge: 'Missing knowledge',
    missing_tool: 'Missing tool',
    unclear_instructions: 'Unclear instructions',
  };

  const CHANNELS = { web: 'Web chat', voice: 'Phone', sms: 'SMS', email: 'Email', slack: 'Slack' };

  // label is a code as words: "billing_disputes" reads "Billing disputes".
  function label(code) {
    const s = humanize(code);
    return s.charAt(0).toUpperCase() + s.slice(1);
  }

  function role(m) {
    switch (m.role) {
      case 'customer': return 'Customer';
      case 'ai': return 'Assistant';
      case 'agent': return m.agent || 'Agent';
      default: return 'System';
    }
  }

  window.SBConsole = {
    el, api, start, stream, token, whoami,
    me: () => me,
    onSignOut(fn) { signOutHooks.push(fn); },
    fmt: {
      trigger: (t) => TRIGGERS[t] || label(t) || 'Unknown',
      reason: (r) => REASONS[r] || label(r),
      channel: (c) => CHANNELS[c] || label(c),
      state: (s) => STATES[s] || humanize(s),
      humanize, label, time, since, ago, role,
    },
  };
})();
