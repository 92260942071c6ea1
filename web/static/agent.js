// The agent console: the live queue on the left, the selected conversation
// (context packet, transcript, actions, reply) on the right, kept current by
// the agent stream, with polling while the stream is down.
(() => {
  'use strict';
  const { el, api, fmt } = window.SBConsole;
  const $ = (id) => document.getElementById(id);
  const enc = encodeURIComponent;
  const POLL_MS = 5000;

  let queue = []; // context packets, waiting first
  let selectedId = '';
  let openId = '';
  let openPacket = null;
  let live = false;
  let pollTimer = 0;
  let refreshTimer = 0;
  let refreshOpen = false;
  let streamHandle = null;
  let said = { id: '', state: '' }; // what the status line is about
  const drafts = new Map();

  // Reasons that only repeat their trigger are left out of the queue's line.
  const SAME_AS_TRIGGER = {
    'explicit_request:customer_request': true, 'restricted_topic:restricted_topic': true, 'frustration:frustration': true,
  };

  const stateOf = (p) => fmt.state(p && p.state);
  const handoffOf = (p) => (p && p.handoff) || {};
  const waitingSince = (p) => p.waiting_since || handoffOf(p).created_at || p.created_at;
  // The customer by the name they gave, else as their channel knows them.
  const customerOf = (p) => (p.details && p.details.name) || p.customer || 'Anonymous customer';
  const holderOf = (p) => p.agent_name || p.agent || '';

  function isMine(p) {
    const me = window.SBConsole.me();
    return !!(p && me && stateOf(p) === 'active' && p.agent === me.id);
  }

  // ---- queue ----

  function sortQueue(list) {
    const rank = (p) => ({ waiting: 0, active: 1 }[stateOf(p)] ?? 2);
    return list.slice().sort((a, b) => rank(a) - rank(b)
      || String(waitingSince(a)).localeCompare(String(waitingSince(b))));
  }

  async function refreshQueue() {
    const data = await api('GET', '/api/v1/agent/queue');
    queue = sortQueue((data && data.conversations) || []);
    if (!queue.some((p) => p.id === selectedId)) selectedId = queue.length ? queue[0].id : '';
    renderQueue();
    renderOnline(data || {});
  }

  // renderOnline lists the agents with a console open, on any instance.
  function renderOnline(data) {
    const me = window.SBConsole.me() || {};
    const ids = data.online || [];
    const names = data.online_names || ids;
    const who = ids.map((id, i) => (id === me.id ? 'You (' + names[i] + ')' : names[i]));
    $('online').textContent = who.length ? 'Online: ' + who.join(', ') : 'Nobody online';
    $('online').title = who.length + (who.length === 1 ? ' agent' : ' agents') + ' with the console open';
  }

  function queueItem(p) {
    const h = handoffOf(p);
    const state = stateOf(p);
    const mine = isMine(p);
    const holder = holderOf(p);
    const waiting = state === 'waiting';
    return el('li', {
      id: 'q-' + p.id, class: 'queue-item' + (p.id === openId ? ' is-open' : ''),
      role: 'option', 'aria-selected': p.id === selectedId ? 'true' : 'false',
      'data-id': p.id, 'data-state': state, 'data-trigger': h.trigger || '',
    },
    el('div', { class: 'qi-row' },
      el('span', { class: 'state state-' + state.replace(/\s+/g, '-') }, state),
      el('span', { class: 'qi-customer' }, customerOf(p)),
      waiting ? el('span', { class: 'qi-wait', title: 'Waiting since ' + fmt.time(waitingSince(p)) }, fmt.since(waitingSince(p))) : null),
    el('div', { class: 'qi-row qi-why' },
      el('span', { class: 'qi-trigger', title: h.trigger || '' }, fmt.trigger(h.trigger)),
      h.reason && !SAME_AS_TRIGGER[h.trigger + ':' + h.reason] ? el('span', { class: 'qi-reason', title: h.reason }, fmt.reason(h.reason)) : null),
    el('div', { class: 'qi-row qi-meta' },
      h.topic ? el('span', { class: 'qi-topic', title: h.topic }, fmt.label(h.topic)) : null,
      el('span', { class: 'qi-channel', title: p.channel || '' }, fmt.channel(p.channel || 'web')),
      holder ? el('span', { class: 'qi-agent' + (mine ? ' is-mine' : '') }, mine ? 'You' : holder) : null));
  }

  function renderQueue() {
    const list = $('queue');
    list.replaceChildren(...queue.map(queueItem));
    const waiting = queue.filter((p) => stateOf(p) === 'waiting').length;
    $('queue-count').textContent = queue.length ? waiting + ' waiting · ' + (queue.length - waiting) + ' active' : '';
    $('queue-empty').hidden = queue.length > 0;
    if (selectedId) list.setAttribute('aria-activedescendant', 'q-' + selectedId);
    else list.removeAttribute('aria-activedescendant');
  }

  function select(id, scroll) {
    selectedId = id;
    for (const item of $('queue').children) {
      item.setAttribute('aria-selected', item.getAttribute('data-id') === id ? 'true' : 'false');
    }
    $('queue').setAttribute('aria-activedescendant', 'q-' + id);
    const item = $('q-' + id);
    if (item && scroll) item.scrollIntoView({ block: 'nearest' });
  }

  function move(delta) {
    if (!queue.length) return;
    const i = queue.findIndex((p) => p.id === selectedId);
    const next = Math.max(0, Math.min(queue.length - 1, (i < 0 ? 0 : i + delta)));
    select(queue[next].id, true);
    $('queue').focus();
  }

  // ---- the open conversation ----

  async function openConversation(id) {
    if (!id) return;
    if (openId && openId !== id) drafts.set(openId, $('reply').value);
    const switched = openId !== id;
    openId = id;
    select(id, true);
    for (const item of $('queue').children) item.classList.toggle('is-open', item.getAttribute('data-id') === id);
    if (switched) {
      say('');
      $('reply').value = drafts.get(id) || '';
      const cached = queue.find((p) => p.id === id);
      if (cached) renderConversation(cached, true);
      history.replaceState(null, '', '/agent?conversation=' + enc(id) + location.hash);
    }
    await refreshConversation(switched);
  }

  async function refreshConversation(jump) {
    if (!openId) return;
    const id = openId;
    try {
      const p = await api('GET', '/api/v1/agent/conversations/' + enc(id));
      if (openId === id) renderConversation(p, jump);
    } catch (err) {
      if (err.status === 404 && openId === id) say('This conversation no longer exists.', true);
      else if (err.status !== 401) say('Could not load the conversation: ' + err.message, true);
    }
  }

  function field(dl, label, value, node) {
    if ((value == null || value === '') && !node) return;
    dl.append(el('dt', null, label), el('dd', null, node || String(value)));
  }

  function sentiment(v) {
    if (typeof v !== 'number' || isNaN(v)) return '';
    const word = v <= -0.5 ? 'very negative' : v < -0.05 ? 'negative' : v > 0.05 ? 'positive' : 'neutral';
    return v.toFixed(2) + ' (' + word + ')';
  }

  function safeLink(href) {
    return /^(\/(?!\/)|https?:\/\/)/i.test(href || '') ? href : '';
  }

  function renderPacket(p) {
    const h = handoffOf(p);
    const state = stateOf(p);
    $('packet-title').textContent = customerOf(p);
    $('packet-state').textContent = state + (p.agent ? ' · ' + (isMine(p) ? 'you' : holderOf(p)) : '');
    $('packet-state').className = 'state state-' + state.replace(/\s+/g, '-');
    $('packet-summary').textContent = h.summary || 'No summary yet.';
    const dl = $('packet-fields');
    dl.replaceChildren();
    field(dl, 'Reason', h.reason ? fmt.reason(h.reason) + ' (' + h.reason + ')' : '');
    field(dl, 'Trigger', h.trigger ? fmt.trigger(h.trigger) + ' (' + h.trigger + ')' : '');
    field(dl, 'Topic', h.topic ? fmt.label(h.topic) : '');
    field(dl, 'Sentiment', sentiment(h.sentiment));
    field(dl, 'Channel', p.channel ? fmt.channel(p.channel) : '');
    field(dl, 'Customer', p.customer);
    field(dl, 'Agent', holderOf(p));
    field(dl, 'Handed off', h.created_at ? fmt.time(h.created_at) + ' (' + fmt.ago(h.created_at) + ')' : '');
    if (p.waiting_since) field(dl, 'Waiting', fmt.since(p.waiting_since));
    const href = safeLink(p.link);
    if (href) field(dl, 'Link', '', el('a', { href }, href));
    const d = p.details || {};
    const details = $('packet-details');
    details.replaceChildren();
    field(details, 'Name', d.name);
    field(details, 'Email', d.email, d.email ? el('a', { href: 'mailto:' + d.email }, d.email) : null);
    field(details, 'Phone', d.phone);
    field(details, 'Order number', d.order_number);
    $('packet-details-box').hidden = details.children.length === 0;
  }

  function renderTranscript(messages, jump) {
    const list = $('transcript');
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    list.replaceChildren(...messages.map((m) => el('li', {
      class: 't-msg t-' + (m.role || 'system'), 'data-role': m.role || 'system', 'data-id': m.id,
    },
    el('div', { class: 't-head' },
      el('span', { class: 't-who' }, fmt.role(m)),
      el('time', { class: 't-time', datetime: m.created_at || '' }, fmt.time(m.created_at))),
    el('p', { class: 't-text' }, m.text || ''))));
    if (jump || atBottom) list.scrollTop = list.scrollHeight;
  }

  function renderConversation(p, jump) {
    openPacket = p;
    $('conv-empty').hidden = true;
    $('conv').hidden = false;
    renderPacket(p);
    renderTranscript(p.transcript || [], jump);
    const state = stateOf(p);
    const mine = isMine(p);
    // What the status line said was about this conversation as it was.
    if (said.id && (said.id !== p.id || said.state !== state)) say('');
    $('claim').disabled = mine || !(state === 'waiting' || state === 'active');
    $('claim').textContent = mine ? 'Claimed by you' : 'Claim';
    $('resolve').disabled = !(state === 'waiting' || mine);
    $('return-ai').disabled = !(state === 'waiting' || mine);
    // A channel that cannot carry a reply (a phone call that was
    // transferred) gets a note instead of a reply box.
    const canReply = p.can_reply !== false;
    $('reply-form').hidden = !canReply;
    $('reply-note').hidden = canReply;
    $('reply-note').textContent = canReply ? '' : 'No written reply can reach this customer: ' + (p.reply_note || 'the channel cannot carry one') + '.';
    $('reply').disabled = !mine || !canReply;
    $('reply-send').disabled = !mine || !canReply;
    $('reply').placeholder = mine ? 'Write to the customer (Ctrl+Enter to send)'
      : state === 'active' ? 'Held by ' + (holderOf(p) || 'another agent') : 'Claim the conversation to reply';
  }

  // say puts text on the status line, about the open conversation in the
  // state it is in now; it goes when that changes.
  function say(text, isError) {
    const msg = $('action-msg');
    msg.textContent = text || '';
    msg.classList.toggle('is-error', !!isError);
    said = text && openPacket && openPacket.id === openId ? { id: openId, state: stateOf(openPacket) } : { id: '', state: '' };
  }

  // ---- actions ----

  // action posts verb and, once the conversation shows the outcome, says
  // done or what went wrong (so the status line is about the state shown).
  async function action(verb, done) {
    if (!openId) return;
    const id = openId;
    let res;
    let text = '';
    try {
      await api('POST', '/api/v1/agent/conversations/' + enc(id) + '/' + verb);
      res = true;
      text = done;
    } catch (err) {
      if (err.status === 401) return false;
      res = err;
      if (err.status === 409 && verb !== 'claim') text = 'Not possible now: ' + err.message + '.';
      else if (err.status !== 409) text = 'Failed: ' + err.message;
    }
    refreshQueue().catch(() => {});
    await refreshConversation(false);
    if (text && openId === id) say(text, res !== true);
    return res;
  }

  // claim takes the conversation. Focus stays where it was: the reply box
  // is one "r" away, and a key pressed now must not land in it.
  async function claim() {
    if (!openId || $('claim').disabled) return;
    const res = await action('claim', 'You hold this conversation. Press r to reply.');
    if (res && res !== true && res.status === 409) {
      const p = openPacket || {};
      say(stateOf(p) === 'active' && !isMine(p)
        ? 'Taken by another agent' + (holderOf(p) ? ' (' + holderOf(p) + ')' : '') + '. It is theirs to answer.'
        : 'This conversation cannot be claimed now (' + (stateOf(p) || 'changed') + ').', true);
    }
  }

  async function sendReply() {
    const text = $('reply').value.trim();
    if (!openId || !text || $('reply-send').disabled) return;
    const id = openId;
    $('reply-send').disabled = true;
    let problem = '';
    try {
      await api('POST', '/api/v1/agent/conversations/' + enc(id) + '/messages', { text });
      $('reply').value = '';
      drafts.delete(id);
    } catch (err) {
      if (err.status === 409) problem = 'The reply was not sent: ' + err.message + '.';
      else if (err.status === 413) problem = 'That reply is too long.';
      else if (err.status !== 401) problem = 'The reply was not sent: ' + err.message;
    }
    await refreshConversation(true);
    if (openId === id) say(problem, true);
  }

  // ---- live updates ----

  function scheduleRefresh(conversationId) {
    if (!conversationId || conversationId === openId) refreshOpen = true;
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => {
      const withOpen = refreshOpen;
      refreshOpen = false;
      refreshQueue().catch(() => {});
      if (withOpen) refreshConversation(false);
    }, 100);
  }

  function setLive(on) {
    live = on;
    $('conn-status').textContent = on ? 'Live' : 'Reconnecting… (checking every 5 s)';
    $('conn-status').setAttribute('data-live', on ? 'true' : 'false');
    clearInterval(pollTimer);
    pollTimer = on ? 0 : setInterval(() => scheduleRefresh(''), POLL_MS);
    if (on) scheduleRefresh(''); // catch up on what happened while disconnected
  }

  function startLive() {
    if (streamHandle) streamHandle.stop();
    setLive(false);
    streamHandle = window.SBConsole.stream('/api/v1/agent/stream', (ev) => scheduleRefresh(ev && ev.conversation_id), setLive);
  }

  window.SBConsole.onSignOut(() => {
    if (streamHandle) streamHandle.stop();
    streamHandle = null;
    clearInterval(pollTimer);
  });

  // ---- views and keyboard ----

  function showView() {
    const insights = location.hash === '#insights';
    $('queue-view').hidden = insights;
    $('insights').hidden = !insights;
    $('tab-queue').setAttribute('aria-current', insights ? 'false' : 'page');
    $('tab-insights').setAttribute('aria-current', insights ? 'page' : 'false');
    $('help-line').hidden = insights;
    if (insights && !$('app').hidden) window.SBInsights.load();
  }

  function onKey(e) {
    if ($('app').hidden || !$('insights').hidden) return;
    const t = e.target;
    if (t.id === 'reply') {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); sendReply(); }
      else if (e.key === 'Escape') { e.preventDefault(); t.blur(); $('queue').focus(); }
      return;
    }
    if (t.closest('input, textarea, select, [contenteditable]') || e.altKey || e.ctrlKey || e.metaKey) return;
    const onControl = t.closest('button, a');
    switch (e.key) {
      case 'j': case 'ArrowDown': e.preventDefault(); move(1); break;
      case 'k': case 'ArrowUp': e.preventDefault(); move(-1); break;
      case 'Enter': if (!onControl && selectedId) { e.preventDefault(); openConversation(selectedId); } break;
      case 'c': e.preventDefault(); claim(); break;
      case 'r':
        e.preventDefault();
        if (!$('reply').disabled) $('reply').focus();
        else if (openId) say('Claim the conversation (c) before replying.', true);
        break;
      default: break;
    }
  }

  function wire() {
    $('queue').addEventListener('click', (e) => {
      const item = e.target.closest('.queue-item');
      if (item) openConversation(item.getAttribute('data-id'));
    });
    $('claim').addEventListener('click', claim);
    $('resolve').addEventListener('click', () => action('resolve', 'Resolved. The customer has been told.'));
    $('return-ai').addEventListener('click', () => action('return-to-ai', 'Returned to the AI assistant.'));
    $('reply-form').addEventListener('submit', (e) => { e.preventDefault(); sendReply(); });
    document.addEventListener('keydown', onKey);
    window.addEventListener('hashchange', showView);
    setInterval(() => { if (queue.length) renderQueue(); }, 30000); // keep waiting times current
  }

  wire();
  showView();
  window.SBConsole.start(async () => {
    await window.SBConsole.whoami();
    await refreshQueue();
    startLive();
  }, () => {
    showView();
    const wanted = new URLSearchParams(location.search).get('conversation');
    if (wanted && !openId) openConversation(wanted);
  });
})();
