// The Parcel & Pine demo page: how a site owner uses the Switchboard widget's
// API. It shows its own banner while the conversation waits for a person and
// sends the customer's contact details to the conversation the widget holds.
(() => {
  'use strict';

  const FIELDS = ['name', 'email', 'phone', 'order_number'];
  const DEFAULT_FIELDS = ['name', 'email', 'order_number'];

  const banner = document.getElementById('demo-handoff-banner');
  const bannerText = document.getElementById('demo-handoff-text');
  const form = document.getElementById('demo-contact-form');
  const done = document.getElementById('demo-contact-done');
  const error = document.getElementById('demo-contact-error');

  function whenReady(fn) {
    if (window.Switchboard) fn(window.Switchboard);
    else window.addEventListener('switchboard:ready', () => fn(window.Switchboard), { once: true });
  }

  function showError(text) {
    error.textContent = text || '';
    error.hidden = !text;
  }

  // Only the fields the gateway is configured to collect are shown; an empty
  // list means "no preference", so the usual three appear.
  async function applyConfig() {
    let collect = [];
    try {
      const res = await fetch('/api/v1/widget/config', { headers: { Accept: 'application/json' } });
      if (res.ok) collect = (await res.json()).collect || [];
    } catch (_) { /* the defaults below still make a usable form */ }
    const wanted = collect.filter((f) => FIELDS.includes(f));
    const show = wanted.length ? wanted : DEFAULT_FIELDS;
    for (const field of form.querySelectorAll('[data-field]')) {
      field.hidden = !show.includes(field.getAttribute('data-field'));
    }
  }

  function details() {
    const body = {};
    for (const field of form.querySelectorAll('[data-field]')) {
      if (field.hidden) continue;
      const input = field.querySelector('input');
      const value = input.value.trim();
      if (value) body[input.name] = value;
    }
    return body;
  }

  async function submit(e) {
    e.preventDefault();
    showError('');
    const conv = window.Switchboard && window.Switchboard.conversation();
    if (!conv) {
      showError('Start a chat first (the button in the corner), then send your details.');
      return;
    }
    const body = details();
    if (!Object.keys(body).length) {
      showError('Please fill in at least one field.');
      return;
    }
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      const res = await fetch('/api/v1/conversations/' + encodeURIComponent(conv.id) + '/details', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + conv.token },
        body: JSON.stringify(body),
      });
      if (!res.ok) {
        let msg = 'HTTP ' + res.status;
        try { msg = (await res.json()).error || msg; } catch (_) { /* keep the status */ }
        throw new Error(msg);
      }
      form.hidden = true;
      done.hidden = false;
    } catch (err) {
      showError('Your details could not be sent: ' + err.message);
    } finally {
      button.disabled = false;
    }
  }

  // The banner follows the conversation: shown while it waits for a person
  // (with the words the customer was told, when the widget has them), gone
  // once someone joins, it is resolved, or it is back with the assistant.
  whenReady((sb) => {
    sb.on('handoff', (ev) => {
      bannerText.textContent = ev.text || '';
      banner.hidden = false;
    });
    sb.on('state', (ev) => {
      if (ev.state === 'pending_human') banner.hidden = false;
      else {
        banner.hidden = true;
        bannerText.textContent = '';
      }
    });
    document.getElementById('demo-open-chat').addEventListener('click', () => sb.open());
  });

  form.addEventListener('submit', submit);
  applyConfig();
})();
