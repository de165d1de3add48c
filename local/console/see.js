// The console's "see" panels: which site the page is looking at, callbacks per minute by outcome, the age ladder of
// documents awaiting a final answer, and Failed answers by cause. Plain browser JavaScript; the charts are SVG drawn
// here (no library, no CDN). Every value from the endpoint is put into the page as text, never as markup. The
// language follows the page's own switch (console.js sets <html lang>).

const SVG = 'http://www.w3.org/2000/svg';
const base = new URL('../', location.href);

const TEXT = {
  ru: {
    site: (s) =>
      s.kind === 'local'
        ? `Площадка ${s.siteId}: npm start (эмуляторы), регион ${s.region}`
        : `Площадка ${s.siteId} (${s.stackName ?? ''}): аккаунт AWS ${s.account ?? '?'}, регион ${s.region} — ваши учётные данные, только чтение`,
    minutes: 'Сообщения по минутам',
    minutesCaption: 'За последний час: принятые (Success), с ошибкой (Failed) и отклонённые запросы',
    Success: 'Success',
    Failed: 'Failed',
    rejected: 'отклонённые',
    ladder: 'Ожидают окончательного ответа',
    ladderCaption: (n) => `Документы без окончательного ответа по времени ожидания: всего ${n}`,
    stage: 'ожидаемый этап',
    documents: 'документы',
    oldest: 'Дольше всех ждут',
    causes: 'Ошибки по причинам',
    causesCaption: (n) => `Ответы Failed за сутки: ${n}; причина — по таблице шаблонов (contract/causes.ts)`,
    cause: 'причина',
    count: 'число',
    byType: 'по типам',
    examples: 'примеры',
    noWaiting: 'Нет документов, ожидающих ответа.',
    noFailed: 'Ответов Failed за сутки нет.',
    unavailable: 'недоступно',
  },
  en: {
    site: (s) =>
      s.kind === 'local'
        ? `Site ${s.siteId}: npm start (emulators), region ${s.region}`
        : `Site ${s.siteId} (${s.stackName ?? ''}): AWS account ${s.account ?? '?'}, region ${s.region} — your credentials, read-only`,
    minutes: 'Callbacks per minute',
    minutesCaption: 'Last hour: accepted (Success), failed (Failed) and rejected requests',
    Success: 'Success',
    Failed: 'Failed',
    rejected: 'rejected',
    ladder: 'Awaiting a final answer',
    ladderCaption: (n) => `Documents without a final answer, by how long they have waited: ${n} in all`,
    stage: 'waits on',
    documents: 'documents',
    oldest: 'Waiting longest',
    causes: 'Errors by cause',
    causesCaption: (n) => `Failed answers in the last day: ${n}; cause from the table of patterns (contract/causes.ts)`,
    cause: 'cause',
    count: 'count',
    byType: 'by type',
    examples: 'examples',
    noWaiting: 'No document is awaiting an answer.',
    noFailed: 'No Failed answers in the last day.',
    unavailable: 'unavailable',
  },
};

// Rung and cause labels come from their one home (contract/ladder.ts, contract/causes.ts) through _local/vocabulary.
let RUNGS = [];
let CAUSE_LABELS = {};

const lang = () => (document.documentElement.lang === 'en' ? 'en' : 'ru');
const t = (key) => TEXT[lang()][key];
const rungLabel = (id) => RUNGS.find((r) => r.id === id)?.[lang()] ?? id;
const causeLabel = (id) => CAUSE_LABELS[id]?.[lang()] ?? id;

const el = (tag, props = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
};
const svg = (tag, attributes = {}, ...children) => {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  node.append(...children);
  return node;
};

async function getJson(path) {
  const response = await fetch(new URL(path, base));
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

/** A bar chart: `bars` of stacked `series` (value per series), labels under every `labelEvery`-th bar. */
function barChart({ title, bars, series, width = 720, height = 180, labelEvery = 1 }) {
  const top = 10;
  const bottom = 28;
  const left = 34;
  const max = Math.max(1, ...bars.map((b) => series.reduce((sum, s) => sum + (b.values[s.key] ?? 0), 0)));
  const step = (width - left) / Math.max(1, bars.length);
  const scale = (height - top - bottom) / max;
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', class: 'chart' }, svg('title', {}, title));
  chart.append(
    svg('text', { x: left - 4, y: top + 8, 'text-anchor': 'end', class: 'axis' }, String(max)),
    svg('text', { x: left - 4, y: height - bottom, 'text-anchor': 'end', class: 'axis' }, '0'),
    svg('line', { x1: left, x2: width, y1: height - bottom, y2: height - bottom, class: 'baseline' }),
  );
  bars.forEach((bar, i) => {
    let y = height - bottom;
    for (const s of series) {
      const value = bar.values[s.key] ?? 0;
      if (value === 0) continue;
      const h = value * scale;
      y -= h;
      chart.append(
        svg(
          'rect',
          { x: left + i * step + 1, y, width: Math.max(1, step - 2), height: h, class: `bar ${s.key}` },
          svg('title', {}, `${bar.label}: ${s.label} ${value}`),
        ),
      );
    }
    if (i % labelEvery === 0)
      chart.append(svg('text', { x: left + i * step + step / 2, y: height - 10, 'text-anchor': 'middle', class: 'axis' }, bar.label));
  });
  const legend = el('p', { className: 'legend' });
  for (const s of series) legend.append(el('span', { className: `swatch ${s.key}` }), ` ${s.label} `);
  return el('figure', { className: 'chart' }, chart, legend);
}

function section(id, headingKey) {
  let node = document.getElementById(id);
  if (!node) {
    node = el('section', { id });
    node.setAttribute('aria-labelledby', `${id}-heading`);
    document.querySelector('main').prepend(node);
  }
  const heading = el('h2', { id: `${id}-heading`, textContent: t(headingKey) });
  return { node, heading };
}

let last = {};

function renderSite() {
  if (!last.site) return;
  let banner = document.getElementById('site-banner');
  if (!banner) {
    banner = el('p', { id: 'site-banner', className: 'site-banner' });
    banner.setAttribute('role', 'note');
    document.querySelector('header').after(banner);
  }
  banner.textContent = t('site')(last.site);
  banner.dataset.kind = last.site.kind;
  // A deployed site's console sends nothing: no "send an example" panel.
  const send = document.getElementById('send-heading')?.closest('section');
  if (send) send.hidden = last.site.kind === 'deployed';
}

function renderMinutes() {
  const { node, heading } = section('minutes-panel', 'minutes');
  if (!last.minutes) return node.replaceChildren(heading, el('p', { textContent: t('unavailable') }));
  const series = ['Success', 'Failed', 'rejected'].map((key) => ({ key, label: t(key) }));
  const bars = last.minutes.map((m) => ({ label: m.minute.slice(11, 16), values: m }));
  node.replaceChildren(
    heading,
    el('p', { className: 'caption', textContent: t('minutesCaption') }),
    barChart({ title: t('minutes'), bars, series, labelEvery: 10 }),
  );
}

function renderLadder() {
  const { node, heading } = section('ladder-panel', 'ladder');
  const ladder = last.ladder;
  if (!ladder) return node.replaceChildren(heading, el('p', { textContent: t('unavailable') }));
  const caption = el('p', { className: 'caption', textContent: t('ladderCaption')(ladder.total) });
  if (ladder.total === 0) return node.replaceChildren(heading, caption, el('p', { className: 'empty', textContent: t('noWaiting') }));
  const bars = RUNGS.map(({ id }) => ({ label: rungLabel(id), values: { waiting: ladder.rungs[id] ?? 0 } }));
  const chart = barChart({ title: t('ladder'), bars, series: [{ key: 'waiting', label: t('documents') }], height: 160 });
  const table = el('table', { id: 'ladder' });
  const head = el(
    'tr',
    {},
    el('th', { scope: 'col', textContent: t('stage') }),
    ...RUNGS.map(({ id }) => el('th', { scope: 'col', textContent: rungLabel(id) })),
  );
  const rows = Object.entries(ladder.byStage).map(([stage, counts]) =>
    el(
      'tr',
      {},
      el('th', { scope: 'row', textContent: stage }),
      ...RUNGS.map(({ id }) => el('td', { textContent: String(counts[id] ?? 0) })),
    ),
  );
  rows.push(
    el(
      'tr',
      { className: 'total' },
      el('th', { scope: 'row', textContent: t('documents') }),
      ...RUNGS.map(({ id }) => el('td', { textContent: String(ladder.rungs[id] ?? 0) })),
    ),
  );
  table.append(el('thead', {}, head), el('tbody', {}, ...rows));
  const oldest = el(
    'ol',
    { className: 'oldest' },
    ...ladder.oldest.slice(0, 5).map((w) => el('li', { textContent: `${w.documentId} (${w.stage}) — ${w.since}` })),
  );
  node.replaceChildren(heading, caption, chart, table, el('h3', { textContent: t('oldest') }), oldest);
}

function renderCauses() {
  const { node, heading } = section('causes-panel', 'causes');
  const summary = last.causes;
  if (!summary) return node.replaceChildren(heading, el('p', { textContent: t('unavailable') }));
  const caption = el('p', { className: 'caption', textContent: t('causesCaption')(summary.total) });
  if (summary.total === 0) return node.replaceChildren(heading, caption, el('p', { className: 'empty', textContent: t('noFailed') }));
  const table = el('table', { id: 'causes' });
  table.append(
    el('thead', {}, el('tr', {}, ...['cause', 'count', 'byType', 'examples'].map((k) => el('th', { scope: 'col', textContent: t(k) })))),
    el(
      'tbody',
      {},
      ...summary.causes.map((c) => {
        const examples = el(
          'ul',
          {},
          ...c.examples.map((e) =>
            el('li', { textContent: `${e.receivedAt.slice(11, 19)} ${e.messageType} ${e.documentKey}: ${e.message}` }),
          ),
        );
        const row = el(
          'tr',
          { className: c.cause },
          el('th', { scope: 'row', textContent: causeLabel(c.cause) }),
          el('td', { textContent: String(c.count) }),
          el('td', {
            textContent: Object.entries(c.byType)
              .map(([type, n]) => `${type} ${n}`)
              .join(', '),
          }),
          el('td', {}, examples),
        );
        row.dataset.cause = c.cause;
        return row;
      }),
    ),
  );
  node.replaceChildren(heading, caption, table);
}

function renderAll() {
  renderSite();
  // Prepended in reverse: the page reads site, minutes, ladder, causes, then the console's own panels.
  renderCauses();
  renderLadder();
  renderMinutes();
}

async function refresh() {
  const read = (path) => getJson(path).catch(() => undefined);
  const [site, minutes, ladder, causes] = await Promise.all([
    read('_local/site'),
    read('_local/minutes'),
    read('documents?ladder=true'),
    read('_local/causes'),
  ]);
  last = { site, minutes, ladder, causes };
  renderAll();
}

document.head.append(el('link', { rel: 'stylesheet', href: 'see.css' }));
const vocabulary = await getJson('_local/vocabulary').catch(() => ({ rungs: [], causes: [] }));
RUNGS = vocabulary.rungs;
CAUSE_LABELS = Object.fromEntries(vocabulary.causes.map((c) => [c.id, c]));
new MutationObserver(renderAll).observe(document.documentElement, { attributes: true, attributeFilter: ['lang'] });
await refresh();
setInterval(() => void refresh(), 10_000);
