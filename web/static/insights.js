// The insights view of the agent console: why conversations went to people
// (by trigger, reason, topic, channel and day) and the questions the AI could
// not answer, which is the knowledge an admin should add next.
(() => {
  'use strict';
  const { el, api, fmt } = window.SBConsole;
  const $ = (id) => document.getElementById(id);
  let loading = 0;

  // bars renders counts as a list of labelled CSS bars, largest first unless
  // keepOrder (for days, which read best in date order). A label is words;
  // its tooltip is the code the API and the config use.
  function bars(list, entries, label, keepOrder) {
    const rows = keepOrder ? entries : entries.slice().sort((a, b) => b[1] - a[1]);
    const max = Math.max(1, ...rows.map((r) => r[1]));
    if (!rows.length) {
      list.replaceChildren(el('li', { class: 'bars-empty' }, 'Nothing in this period.'));
      return;
    }
    list.replaceChildren(...rows.map(([key, count]) => {
      const fill = el('span', { class: 'bar-fill' });
      fill.style.width = (100 * count / max).toFixed(1) + '%'; // CSSOM, allowed by the CSP
      return el('li', { class: 'bar', 'data-key': key, 'data-count': count },
        el('span', { class: 'bar-label', title: key }, label(key)),
        el('span', { class: 'bar-track', 'aria-hidden': 'true' }, fill),
        el('span', { class: 'bar-count' }, String(count)));
    }));
  }

  const entriesOf = (obj) => Object.entries(obj || {}).filter(([, n]) => typeof n === 'number');

  function dayLabel(date) {
    const d = new Date(date + 'T00:00:00');
    return isNaN(d) ? date : d.toLocaleDateString([], { weekday: 'short', month: 'short', day: 'numeric' });
  }

  function render(data) {
    const total = data.total || 0;
    $('insights-total').textContent = total + (total === 1 ? ' handoff' : ' handoffs') + ' in the last ' + (data.days || $('insights-days').value) + ' days';
    bars($('insights-trigger'), entriesOf(data.by_trigger), fmt.trigger);
    bars($('insights-reason'), entriesOf(data.by_reason), (k) => (k ? fmt.reason(k) : 'Unspecified'));
    bars($('insights-topic'), entriesOf(data.by_topic), (k) => (k ? fmt.label(k) : 'No topic'));
    bars($('insights-channel'), entriesOf(data.by_channel), (k) => (k ? fmt.channel(k) : 'Unknown'));
    const daily = (data.daily || []).map((d) => [d.date, d.count || 0])
      .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    bars($('insights-daily'), daily, dayLabel, true);

    const unanswered = (data.unanswered || []).slice().sort((a, b) => (b.count || 0) - (a.count || 0));
    $('insights-unanswered').replaceChildren(...(unanswered.length
      ? unanswered.map((q) => el('li', { class: 'unanswered-item' },
        el('span', { class: 'unanswered-count', title: 'times asked' }, String(q.count || 0) + '\u00d7'),
        el('span', { class: 'unanswered-text' }, q.text || '')))
      : [el('li', { class: 'bars-empty' }, 'The AI answered everything it was asked in this period.')]));
  }

  async function load() {
    const days = $('insights-days').value === '30' ? 30 : 7;
    const mine = ++loading;
    $('insights').setAttribute('aria-busy', 'true');
    try {
      const data = await api('GET', '/api/v1/agent/insights?days=' + days);
      if (mine !== loading) return; // a newer request is on its way
      $('insights-error').hidden = true;
      render(data || {});
    } catch (err) {
      if (err.status === 401 || mine !== loading) return;
      $('insights-error').textContent = 'Insights could not be loaded: ' + err.message;
      $('insights-error').hidden = false;
    } finally {
      if (mine === loading) $('insights').removeAttribute('aria-busy');
    }
  }

  $('insights-days').addEventListener('change', load);
  window.SBInsights = { load };
})();
