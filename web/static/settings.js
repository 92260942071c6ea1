// The read-only settings page: the effective handoff configuration from
// GET /api/v1/agent/settings, shown as tables and definition lists.
(() => {
  'use strict';
  const { el, api, fmt } = window.SBConsole;
  const $ = (id) => document.getElementById(id);

  const LEVELS = {
    ai_only: 'Never transfer; restricted topics are flagged for a human follow-up.',
    quick: 'Transfer at the first request, first sign of frustration or the AI\u2019s first failure.',
    balanced: 'Transfer on request at once; on frustration when sustained; on failure after a real attempt.',
    ai_first: 'The AI first captures a complete problem statement; frustration alone does not transfer.',
    advanced: 'Per-trigger settings (below) decide.',
  };

  // pick reads a key whatever its spelling: restricted_topics,
  // RestrictedTopics and restrictedTopics are the same field.
  const norm = (k) => String(k).toLowerCase().replace(/[_-]/g, '');
  function pick(obj, key) {
    if (!obj || typeof obj !== 'object') return undefined;
    if (key in obj) return obj[key];
    const want = norm(key);
    const found = Object.keys(obj).find((k) => norm(k) === want);
    return found === undefined ? undefined : obj[found];
  }

  const isEmpty = (v) => v == null || v === '' || (Array.isArray(v) && !v.length)
    || (typeof v === 'object' && !Array.isArray(v) && !Object.keys(v).length);

  function duration(key, v) {
    // Go's time.Duration marshals as nanoseconds.
    if (typeof v === 'number' && /timeout|duration|interval/i.test(key)) return (v / 1e9) + ' s';
    return null;
  }

  function chips(list) {
    return el('ul', { class: 'chips' }, list.map((x) => el('li', { class: 'chip' }, String(x))));
  }

  // value renders any JSON value without ever treating it as markup.
  function value(v, key) {
    const d = duration(key || '', v);
    if (d) return d;
    if (typeof v === 'boolean') return v ? 'Yes' : 'No';
    if (v == null || v === '') return el('span', { class: 'muted' }, '\u2014');
    if (Array.isArray(v)) {
      if (!v.length) return el('span', { class: 'muted' }, 'none');
      return v.every((x) => typeof x !== 'object' || x == null) ? chips(v) : el('ol', { class: 'examples' }, v.map((x) => el('li', null, value(x))));
    }
    if (typeof v === 'object') return dl(v);
    return String(v);
  }

  function dl(obj) {
    const list = el('dl', { class: 'fields' });
    const keys = Object.keys(obj || {});
    if (!keys.length) return el('span', { class: 'muted' }, 'none');
    for (const k of keys) list.append(el('dt', null, fmt.humanize(k)), el('dd', null, value(obj[k], k)));
    return list;
  }

  function table(headers, rows) {
    return el('table', { class: 'table' },
      el('thead', null, el('tr', null, headers.map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', null, rows.map((cells) => el('tr', null, cells.map((c) => el('td', null, c))))));
  }

  function section(id, title, ...children) {
    return el('section', { id, 'aria-labelledby': id + '-title' }, el('h2', { id: id + '-title' }, title), ...children);
  }

  function levelText(level) {
    return el('span', null, el('span', { class: 'badge-level' }, level || 'unset'), LEVELS[level] ? ' \u2014 ' + LEVELS[level] : '');
  }

  function channelsSection(s, level) {
    const channels = pick(s, 'channels') || {};
    const rows = Object.keys(channels).sort().map((c) => [c, levelText(channels[c])]);
    return section('settings-channels', 'Per-channel levels',
      rows.length ? table(['Channel', 'Level'], rows) : el('p', { class: 'muted' }, 'No overrides: every channel uses ' + (level || 'the default level') + '.'),
      rows.length ? el('p', { class: 'muted' }, 'Channels not listed use ' + (level || 'the default level') + '.') : null);
  }

  function topicsSection(s, level) {
    const topics = pick(s, 'restricted_topics') || [];
    const rows = topics.map((t) => [
      el('strong', null, String(pick(t, 'name') || '')),
      String(pick(t, 'description') || ''),
      value(pick(t, 'examples') || []),
      value(pick(t, 'keywords') || []),
      pick(t, 'level') ? levelText(pick(t, 'level')) : el('span', { class: 'muted' }, 'always a human' + (level === 'ai_only' ? ' (follow-up on ai_only)' : '')),
    ]);
    return section('settings-topics', 'Restricted topics',
      el('p', { class: 'muted' }, 'Conversations about these go to a person at once on every level except ai_only, where they are declined and flagged for follow-up.'),
      rows.length ? table(['Name', 'Description', 'Examples', 'Keywords', 'Level'], rows) : el('p', { class: 'muted' }, 'No restricted topics.'));
  }

  function routingSection(s) {
    const fb = pick(s, 'fallback') || {};
    const perChannel = pick(fb, 'channels') || {};
    const targets = pick(s, 'targets') || {};
    const fbRows = [['default', String(pick(fb, 'default') || '\u2014')]]
      .concat(Object.keys(perChannel).sort().map((c) => [c, String(perChannel[c])]));
    const targetRows = Object.keys(targets).sort().map((name) => {
      const t = targets[name] || {};
      return [el('strong', null, name), value(pick(t, 'kind')), value(pick(t, 'uri')), value(pick(t, 'method')),
        value(pick(t, 'ring_timeout'), 'ring_timeout'), value(pick(t, 'headers'))];
    });
    return section('settings-routing', 'Where handoffs go',
      el('h3', { class: 'minor' }, 'Fallbacks by channel'),
      table(['Channel', 'Target'], fbRows),
      el('h3', { class: 'minor' }, 'Targets'),
      targetRows.length ? table(['Name', 'Kind', 'URI', 'Method', 'Ring timeout', 'Headers'], targetRows) : el('p', { class: 'muted' }, 'No targets.'));
  }

  function hoursSection(s) {
    const h = pick(s, 'business_hours') || {};
    const body = el('dl', { class: 'fields' });
    const add = (k, v) => body.append(el('dt', null, k), el('dd', null, v));
    if (pick(h, 'always')) add('Staffed', 'Around the clock');
    else {
      add('Days', value(pick(h, 'days') || []));
      add('Hours', (pick(h, 'open') || '?') + ' \u2013 ' + (pick(h, 'close') || '?'));
      add('Time zone', String(pick(h, 'timezone') || 'UTC'));
    }
    return section('settings-hours', 'Business hours', body,
      el('p', { class: 'muted' }, 'Outside these hours the customer is told, and a follow-up is recorded instead of a transfer.'));
  }

  function collectSection(s) {
    const collect = pick(s, 'collect') || [];
    return section('settings-collect', 'Details collected before a transfer',
      collect.length ? chips(collect.map(fmt.humanize)) : el('p', { class: 'muted' }, 'None are required; the web widget offers name, email and order number.'));
  }

  const KNOWN = ['file', 'level', 'advanced', 'channels', 'restricted_topics', 'fallback', 'targets', 'business_hours', 'collect'].map(norm);

  function render(s) {
    const level = pick(s, 'level');
    const source = $('settings-source');
    source.replaceChildren(
      el('dt', null, 'File'), el('dd', { id: 'settings-file', class: 'settings-file' }, String(pick(s, 'file') || 'embedded defaults')),
      el('dt', null, 'Level'), el('dd', { id: 'settings-level' }, levelText(level)));
    const parts = [channelsSection(s, level)];
    const advanced = pick(s, 'advanced');
    if (!isEmpty(advanced)) {
      parts.push(section('settings-advanced', 'Advanced per-trigger settings',
        el('p', { class: 'muted' }, level === 'advanced' ? 'In force: the level is advanced.' : 'Used only when the level is advanced (it is ' + (level || 'unset') + ').'),
        dl(advanced)));
    }
    parts.push(topicsSection(s, level), routingSection(s), hoursSection(s), collectSection(s));
    const rest = Object.keys(s).filter((k) => !KNOWN.includes(norm(k)) && !isEmpty(s[k]));
    for (const k of rest) parts.push(section('settings-' + norm(k), fmt.humanize(k), value(s[k], k)));
    $('settings-body').replaceChildren(...parts);
  }

  window.SBConsole.start(async () => {
    const s = await api('GET', '/api/v1/agent/settings');
    render(s || {});
  });
})();
