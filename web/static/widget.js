// Switchboard web chat widget. One script tag adds a launcher and a chat
// panel to any page: <script src="https://HOST/widget.js" data-switchboard></script>
// Public API on window.Switchboard: on(event, fn), off(event, fn), open(),
// close(), send(text), conversation(). Events: message, handoff (with the
// words the customer was told), agent_joined, resolved, returned_to_ai, and
// state ({state, agent}) on every change of state, the one found on a
// reload included, for a page whose own banner follows the conversation.
(() => {
  'use strict';
  if (window.Switchboard && window.Switchboard.version) return; // loaded twice

  const script = document.currentScript || document.querySelector('script[data-switchboard]');
  const BASE = script && script.src ? new URL(script.src, location.href).origin : location.origin;
  const STORE_KEY = 'switchboard.conversation';
  const MAX_TEXT = 4000;
  const TYPING_TIMEOUT_MS = 30000;
  const POLL_MS = 5000;
  // The details a page sends for the team are stored as a system message;
  // the visitor sees that they were sent, not the raw fields.
  const DETAILS_PREFIX = 'Customer details: ';

  const listeners = new Map();
  const seen = new Map(); // message id -> element
  const pending = new Map(); // client_id -> {el, text}
  const told = new Set(); // events emitted once per handoff: "handoff:<key>", ...
  let conv = loadConversation();
  let convState = 'ai'; // ai | pending_human | human | resolved
  let agentName = ''; // who holds the conversation, in state human
  let handoffKey = '';
  let creating = null;
  let ws = null;
  let wsRetries = 0;
  let wsTimer = 0;
  let pollTimer = 0;
  let typingTimer = 0;
  let unread = 0;
  let ui = null;

  // ---- small helpers ----

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === false || v == null) continue;
      node.setAttribute(k, v === true ? '' : String(v));
    }
    if (text != null) node.textContent = text;
    return node;
  }

  function randomId() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  function loadConversation() {
    try {
      const c = JSON.parse(localStorage.getItem(STORE_KEY) || 'null');
      return c && typeof c.id === 'string' && typeof c.token === 'string' ? c : null;
    } catch (_) {
      return null;
    }
  }

  function saveConversation(c) {
    conv = c;
    try {
      if (c) localStorage.setItem(STORE_KEY, JSON.stringify({ id: c.id, token: c.token }));
      else localStorage.removeItem(STORE_KEY);
    } catch (_) { /* storage disabled: the conversation lasts for this page only */ }
  }

  function emit(type, detail) {
    for (const fn of listeners.get(type) || []) {
      try { fn(detail); } catch (err) { console.error('Switchboard listener for', type, err); }
    }
  }

  async function api(method, path, body, token) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (token) headers.Authorization = 'Bearer ' + token;
    const res = await fetch(BASE + path, {
      method, headers, credentials: 'omit',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    if (res.status !== 204) {
      try { data = await res.json(); } catch (_) { data = null; }
    }
    if (!res.ok) {
      const err = new Error((data && data.error) || 'HTTP ' + res.status);
      err.status = res.status;
      err.retryAfter = Number(res.headers.get('Retry-After')) || 0;
      throw err;
    }
    return data;
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const convPath = (suffix) => '/api/v1/conversations/' + encodeURIComponent(conv.id) + (suffix || '');
  const isGone = (err) => err && (err.status === 401 || err.status === 403 || err.status === 404);

  // ---- user interface ----

  function build() {
    document.head.appendChild(el('link', { rel: 'stylesheet', href: BASE + '/static/widget.css' }));
    const root = el('div', { class: 'sb-root' });
    const launcher = el('button', {
      id: 'sb-launcher', class: 'sb-launcher', type: 'button',
      'aria-haspopup': 'dialog', 'aria-controls': 'sb-panel', 'aria-expanded': 'false',
    });
    launcher.append(el('span', { class: 'sb-launcher-label' }, 'Chat with us'));
    const badge = el('span', { class: 'sb-badge', hidden: true, 'aria-label': 'new messages' });
    launcher.append(badge);

    const panel = el('section', { id: 'sb-panel', class: 'sb-panel', role: 'dialog', 'aria-modal': 'false', 'aria-labelledby': 'sb-title', hidden: true });
    const header = el('header', { class: 'sb-header' });
    const title = el('h2', { id: 'sb-title', class: 'sb-title' }, 'Chat with us');
    const status = el('p', { class: 'sb-status' }, 'Our assistant answers right away; a person takes over when needed.');
    const closeBtn = el('button', { class: 'sb-close', type: 'button', 'aria-label': 'Close chat' }, '\u00d7');
    const heading = el('div', { class: 'sb-heading' });
    heading.append(title, status);
    header.append(heading, closeBtn);

    const messages = el('div', { id: 'sb-messages', class: 'sb-messages', role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions', 'aria-label': 'Conversation', tabindex: '0' });
    const typing = el('div', { id: 'sb-typing', class: 'sb-typing', hidden: true, 'aria-hidden': 'true' });
    typing.append(el('span', { class: 'sb-dot' }), el('span', { class: 'sb-dot' }), el('span', { class: 'sb-dot' }), el('span', { class: 'sb-typing-label' }, 'Assistant is typing'));
    const error = el('p', { class: 'sb-error', role: 'alert', hidden: true });

    const form = el('form', { class: 'sb-form', novalidate: true });
    const label = el('label', { for: 'sb-input', class: 'sb-visually-hidden' }, 'Your message');
    const input = el('textarea', { id: 'sb-input', class: 'sb-input', rows: '1', maxlength: String(MAX_TEXT), placeholder: 'Type your message\u2026', autocomplete: 'off' });
    const sendBtn = el('button', { id: 'sb-send', class: 'sb-send', type: 'submit' }, 'Send');
    form.append(label, input, sendBtn);

    panel.append(header, messages, typing, error, form);
    root.append(panel, launcher);
    document.body.appendChild(root);
    ui = { root, launcher, badge, panel, title, status, closeBtn, messages, typing, error, form, input, sendBtn };

    launcher.addEventListener('click', () => (panel.hidden ? open() : close()));
    closeBtn.addEventListener('click', () => close());
    panel.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') { e.preventDefault(); close(); }
    });
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); submit(); }
    });
    form.addEventListener('submit', (e) => { e.preventDefault(); submit(); });
  }

  function submit() {
    const text = ui.input.value.trim();
    if (!text) return;
    ui.input.value = '';
    send(text);
  }

  function open() {
    if (!ui) return;
    ui.panel.hidden = false;
    ui.launcher.setAttribute('aria-expanded', 'true');
    ui.root.classList.add('sb-open');
    unread = 0;
    ui.badge.hidden = true;
    scrollDown();
    ui.input.focus();
  }

  function close() {
    if (!ui || ui.panel.hidden) return;
    const hadFocus = ui.panel.contains(document.activeElement);
    ui.panel.hidden = true;
    ui.launcher.setAttribute('aria-expanded', 'false');
    ui.root.classList.remove('sb-open');
    if (hadFocus) ui.launcher.focus();
  }

  function scrollDown() {
    ui.messages.scrollTop = ui.messages.scrollHeight;
  }

  function showError(text) {
    ui.error.textContent = text || '';
    ui.error.hidden = !text;
  }

  function formatTime(iso) {
    const d = iso ? new Date(iso) : null;
    return d && !isNaN(d) ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : '';
  }

  function who(m) {
    switch (m.role) {
      case 'customer': return 'You';
      case 'ai': return 'Assistant';
      case 'agent': return m.agent || 'Team member';
      default: return 'System';
    }
  }

  // A system message (an agent joined, the conversation was resolved) is a
  // notice in the thread.
  function shownText(m) {
    const text = m.text || '';
    if (m.role === 'system' && text.startsWith(DETAILS_PREFIX)) return 'You sent your details to our team.';
    return text;
  }

  function renderMessage(m, node) {
    const msg = node || el('div');
    msg.replaceChildren();
    const role = m.role || 'system';
    msg.className = 'sb-msg sb-msg-' + role + (role === 'system' ? ' sb-notice' : '');
    msg.setAttribute('data-role', role);
    msg.setAttribute('data-id', m.id == null ? '' : String(m.id));
    const name = el('span', { class: 'sb-who' }, who(m));
    if (role === 'customer' || role === 'system') name.classList.add('sb-visually-hidden');
    msg.append(name, el('p', { class: 'sb-text' }, shownText(m)));
    const t = formatTime(m.created_at);
    if (t) msg.append(el('time', { class: 'sb-time', datetime: m.created_at }, t));
    return msg;
  }

  // Messages are kept in id order, so a gap filled after a reconnect lands
  // where it belongs; unsent bubbles stay at the end.
  function place(node, id) {
    const n = Number(id);
    for (const other of ui.messages.querySelectorAll('.sb-msg')) {
      const oid = other.getAttribute('data-id');
      if (oid === '' || (oid !== null && Number(oid) > n)) {
        ui.messages.insertBefore(node, other);
        return;
      }
    }
    ui.messages.appendChild(node);
  }

  function adoptPending(text) {
    for (const [cid, p] of pending) {
      if (p.text === text) { pending.delete(cid); return p.el; }
    }
    return null;
  }

  function addMessage(m, notify, node) {
    if (!m || m.id == null || seen.has(String(m.id))) return;
    const reuse = node || (m.role === 'customer' ? adoptPending(m.text) : null);
    const msg = renderMessage(m, reuse);
    seen.set(String(m.id), msg);
    place(msg, m.id);
    if (m.role === 'ai' || m.role === 'agent') hideTyping();
    if (!notify) return;
    if (m.role !== 'customer' && ui.panel.hidden) {
      unread++;
      ui.badge.textContent = String(unread);
      ui.badge.hidden = false;
    }
    scrollDown();
    emit('message', m);
  }

  // once emits an event the first time key is seen: a stream and a poll
  // may both report one change.
  function once(key, type, detail) {
    if (told.has(key)) return;
    told.add(key);
    emit(type, detail);
  }

  function showTyping() {
    if (convState !== 'ai') return; // people are on it now: the AI says nothing
    ui.typing.hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(hideTyping, TYPING_TIMEOUT_MS);
  }

  function hideTyping() {
    clearTimeout(typingTimer);
    if (ui) ui.typing.hidden = true;
  }

  // ---- conversation state and events ----

  const STATUS = {
    ai: 'Our assistant answers right away; a person takes over when needed.',
    pending_human: 'Waiting for a member of our team\u2026',
    human: 'You\u2019re talking with our team.',
    resolved: 'This conversation is resolved. Write again any time.',
  };

  // setState shows where the conversation stands. The thread itself tells
  // what happened: the AI's handoff message, and the system messages the
  // desk stores when an agent joins, resolves or hands back.
  function setState(state, agent) {
    if (!STATUS[state]) return;
    const changed = state !== convState || (agent || '') !== agentName;
    convState = state;
    agentName = state === 'human' ? agent || '' : '';
    ui.status.textContent = state === 'human' && agentName ? 'You\u2019re talking with ' + agentName + '.' : STATUS[state];
    ui.root.setAttribute('data-state', state);
    if (state !== 'ai') hideTyping();
    if (changed) emit('state', { state, agent: agentName });
  }

  function onHandoff(h, text) {
    h = h || {};
    if (h.created_at) handoffKey = h.created_at;
    setState('pending_human');
    once('handoff:' + handoffKey, 'handoff', { trigger: h.trigger || '', reason: h.reason || '', topic: h.topic || '', text: text || '' });
  }

  function onAgentJoined(agent) {
    setState('human', agent);
    once('agent:' + handoffKey + ':' + (agent || ''), 'agent_joined', { agent: agent || '' });
  }

  function onResolved() {
    setState('resolved');
    once('resolved:' + handoffKey, 'resolved', {});
  }

  function onReturned() {
    setState('ai');
    once('returned:' + handoffKey, 'returned_to_ai', {});
  }

  function onEvent(ev) {
    if (!ev || (ev.conversation_id && conv && ev.conversation_id !== conv.id)) return;
    switch (ev.type) {
      case 'message': addMessage(ev.message, true); break;
      case 'handoff': onHandoff(ev.handoff, ev.text); break;
      case 'agent_joined': onAgentJoined(ev.agent); break;
      case 'resolved': onResolved(); break;
      case 'returned_to_ai': onReturned(); break;
      case 'error': console.warn('Switchboard stream error', ev.error || ev); break;
      default: break;
    }
  }

  // refreshState learns the state from the server. When it changed without
  // an event (a stream that was down), the same events are emitted; initial
  // takes the state found when a reload resumes the conversation (the
  // history already tells what happened).
  async function refreshState(initial) {
    if (!conv) return;
    const c = await api('GET', convPath(), undefined, conv.token);
    const h = c.handoff || {};
    if (initial) {
      if (h.created_at) handoffKey = h.created_at;
      setState(c.state, c.agent_name);
      return;
    }
    if (c.state === convState && (c.agent_name || '') === agentName) return;
    // Handed off, perhaps claimed and resolved too, while the stream was down.
    if (c.state === 'pending_human' || (convState === 'ai' && c.state !== 'ai')) onHandoff(h, '');
    if (c.state === 'human') onAgentJoined(c.agent_name);
    else if (c.state === 'resolved') onResolved();
    else if (c.state === 'ai') onReturned();
  }

  async function loadHistory(notify) {
    if (!conv) return;
    const data = await api('GET', convPath('/messages'), undefined, conv.token);
    for (const m of (data && data.messages) || []) addMessage(m, notify);
    if (!notify) scrollDown();
  }

  function forget() {
    disconnect();
    saveConversation(null);
  }

  // ---- stream: WebSocket with backoff; polling while it is down ----

  function connect() {
    if (!conv || ws) return;
    const url = new URL(convPath('/stream'), BASE);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    url.searchParams.set('token', conv.token);
    const sock = new WebSocket(url.href);
    ws = sock;
    sock.addEventListener('open', () => {
      wsRetries = 0;
      stopPolling();
      sync(); // fill whatever happened while we were not listening
    });
    sock.addEventListener('message', (e) => {
      try { onEvent(JSON.parse(e.data)); } catch (err) { console.warn('Switchboard: bad event', err); }
    });
    sock.addEventListener('close', () => {
      if (ws !== sock) return;
      ws = null;
      startPolling();
      const delay = Math.min(30000, 1000 * 2 ** wsRetries) * (0.75 + Math.random() / 2);
      wsRetries++;
      wsTimer = setTimeout(connect, delay);
    });
  }

  function disconnect() {
    clearTimeout(wsTimer);
    stopPolling();
    if (ws) { const sock = ws; ws = null; sock.close(); }
  }

  function startPolling() {
    if (!pollTimer) pollTimer = setInterval(sync, POLL_MS);
  }

  function stopPolling() {
    clearInterval(pollTimer);
    pollTimer = 0;
  }

  async function sync() {
    try {
      await loadHistory(true);
      await refreshState(false);
    } catch (err) {
      if (isGone(err)) forget();
    }
  }

  // ---- sending ----

  async function ensureConversation() {
    if (conv) return conv;
    if (!creating) {
      creating = api('POST', '/api/v1/conversations', { channel: 'web' })
        .then((c) => { saveConversation({ id: c.id, token: c.token }); setState('ai'); connect(); return conv; })
        .finally(() => { creating = null; });
    }
    return creating;
  }

  async function post(text, cid) {
    for (let attempt = 0; ; attempt++) {
      try {
        await ensureConversation();
        return await api('POST', convPath('/messages'), { text, client_id: cid }, conv.token);
      } catch (err) {
        if (isGone(err) && conv && attempt === 0) { forget(); continue; } // stale stored conversation
        const retryable = !err.status || err.status >= 500 || err.status === 429;
        if (!retryable || attempt >= 3) throw err;
        await sleep(err.retryAfter ? err.retryAfter * 1000 : 500 * 2 ** attempt);
      }
    }
  }

  async function send(text, cid) {
    text = String(text == null ? '' : text).trim();
    if (!ui || !text) return;
    if (text.length > MAX_TEXT) { showError('That message is too long; please keep it under 4000 characters.'); return; }
    showError('');
    cid = cid || randomId();
    const bubble = renderMessage({ role: 'customer', text });
    bubble.classList.add('sb-pending');
    pending.set(cid, { el: bubble, text });
    ui.messages.appendChild(bubble);
    scrollDown();
    showTyping();
    try {
      const res = await post(text, cid);
      const m = res && res.message;
      const p = pending.get(cid);
      pending.delete(cid);
      if (m && !seen.has(String(m.id))) addMessage(m, true, p ? p.el : null);
      else if (p && m && seen.get(String(m.id)) !== p.el) p.el.remove();
    } catch (err) {
      hideTyping();
      pending.delete(cid);
      failed(bubble, text, cid, err);
    }
  }

  function failed(bubble, text, cid, err) {
    bubble.classList.add('sb-failed');
    const retry = el('button', { type: 'button', class: 'sb-retry' }, 'Not sent \u2014 retry');
    retry.addEventListener('click', () => { bubble.remove(); send(text, cid); });
    bubble.append(retry);
    showError(err.status === 429 ? 'You are sending messages too quickly. Please wait a moment.'
      : err.status === 413 ? 'That message is too long.'
        : 'Your message could not be sent. Check your connection and retry.');
  }

  // ---- start ----

  async function start() {
    build();
    api('GET', '/api/v1/widget/config').then((cfg) => {
      if (cfg && cfg.company) {
        ui.title.textContent = cfg.company;
        ui.launcher.firstChild.textContent = 'Chat with ' + cfg.company;
      }
    }).catch(() => { /* keep the generic title */ });
    if (!conv) return;
    try {
      await loadHistory(false);
      await refreshState(true);
      connect();
    } catch (err) {
      if (isGone(err)) forget();
      else connect(); // the server may be restarting: the stream's backoff retries
    }
  }

  window.Switchboard = {
    version: 1,
    on(type, fn) {
      if (typeof fn !== 'function') return () => {};
      if (!listeners.has(type)) listeners.set(type, new Set());
      listeners.get(type).add(fn);
      return () => listeners.get(type).delete(fn);
    },
    off(type, fn) { if (listeners.has(type)) listeners.get(type).delete(fn); },
    open,
    close,
    send(text) { return send(text); },
    conversation() { return conv ? { id: conv.id, token: conv.token } : null; },
  };

  if (document.body) start();
  else document.addEventListener('DOMContentLoaded', start, { once: true });
  window.dispatchEvent(new Event('switchboard:ready'));
})();
