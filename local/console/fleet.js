// The fleet page (`n3-callback console --fleet`): one row per site, as the sites answer (8 at a time, read by the
// CLI's server with the operator's credentials), sortable by any column; a site's name opens its console. Every
// value is put into the page as text, never as markup.

const TEXT = {
  ru: {
    title: 'Обратные вызовы N3 — все площадки',
    sites: 'Площадки',
    caption: 'По строке на площадку, из её собственных таблицы, очереди и бакета; щелчок по площадке открывает её консоль',
    site: 'площадка',
    pending: 'в очереди на пересылку',
    undeliverable: 'недоставленные',
    rejected24h: 'отклонено за 24 ч',
    silent: 'молчат',
    waiting: 'ждут ответа',
    lastCallbackAt: 'последнее сообщение',
    progress: (done, total) => `Прочитано площадок: ${done} из ${total}`,
    never: 'нет',
    language: 'English',
  },
  en: {
    title: 'N3 callbacks — fleet',
    sites: 'Sites',
    caption: 'One row per site, read from its own table, queue and bucket; a click on a site opens its console',
    site: 'site',
    pending: 'pending',
    undeliverable: 'undeliverable',
    rejected24h: 'rejected (24 h)',
    silent: 'silent',
    waiting: 'awaiting',
    lastCallbackAt: 'last callback',
    progress: (done, total) => `Sites read: ${done} of ${total}`,
    never: 'none',
    language: 'Русский',
  },
};

let language = (localStorage.getItem('n3-console-language') ?? navigator.language ?? 'ru').startsWith('en') ? 'en' : 'ru';
const t = (key) => TEXT[language][key];
let vocabulary = { rungs: [] };
let scan = { total: 0, done: 0, rows: [] };
let sortKey = 'siteId';
let descending = false;

const columns = () => [
  { key: 'siteId', label: t('site') },
  { key: 'pending', label: t('pending') },
  { key: 'undeliverable', label: t('undeliverable') },
  { key: 'rejected24h', label: t('rejected24h') },
  { key: 'silent', label: t('silent') },
  { key: 'waiting', label: t('waiting') },
  ...vocabulary.rungs.map((rung) => ({ key: `rung:${rung.id}`, label: rung[language] })),
  { key: 'lastCallbackAt', label: t('lastCallbackAt') },
];

const cellValue = (row, key) => (key.startsWith('rung:') ? row.ladder?.[key.slice(5)] : row[key]);

function render() {
  document.documentElement.lang = language;
  document.title = t('title');
  for (const element of document.querySelectorAll('[data-t]')) element.textContent = t(element.dataset.t);
  const toggle = document.getElementById('language');
  toggle.textContent = t('language');
  toggle.setAttribute('aria-pressed', String(language === 'en'));

  const head = document.querySelector('#fleet thead tr');
  head.replaceChildren(
    ...columns().map((column) => {
      const th = document.createElement('th');
      th.scope = 'col';
      th.setAttribute('aria-sort', column.key === sortKey ? (descending ? 'descending' : 'ascending') : 'none');
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = column.label;
      button.addEventListener('click', () => {
        descending = column.key === sortKey ? !descending : column.key !== 'siteId';
        sortKey = column.key;
        render();
      });
      th.append(button);
      return th;
    }),
  );
  const rows = [...scan.rows].sort((a, b) => {
    const x = cellValue(a, sortKey) ?? -1;
    const y = cellValue(b, sortKey) ?? -1;
    const order = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
    return descending ? -order : order;
  });
  document.querySelector('#fleet tbody').replaceChildren(
    ...rows.map((row) => {
      const tr = document.createElement('tr');
      tr.dataset.site = row.siteId;
      const name = document.createElement('th');
      name.scope = 'row';
      const link = document.createElement('a');
      link.href = `../sites/${encodeURIComponent(row.siteId)}/_local/`;
      link.textContent = row.siteId;
      name.append(link);
      tr.append(name);
      if (row.error) {
        const td = document.createElement('td');
        td.colSpan = columns().length - 1;
        td.className = 'error';
        td.textContent = row.error;
        tr.append(td);
        return tr;
      }
      for (const column of columns().slice(1)) {
        const td = document.createElement('td');
        const value = cellValue(row, column.key);
        td.textContent =
          column.key === 'lastCallbackAt' ? (value ? value.replace('T', ' ').slice(0, 19) : t('never')) : String(value ?? '');
        tr.append(td);
      }
      return tr;
    }),
  );
  const progress = document.getElementById('fleet-progress');
  progress.max = Math.max(1, scan.total);
  progress.value = scan.done;
  document.getElementById('fleet-status').textContent = t('progress')(scan.done, scan.total);
}

document.getElementById('language').addEventListener('click', () => {
  language = language === 'en' ? 'ru' : 'en';
  localStorage.setItem('n3-console-language', language);
  render();
});

vocabulary = await (await fetch('vocabulary')).json();
async function poll() {
  scan = await (await fetch('fleet')).json();
  render();
  // Rows arrive as sites answer: ask again until every site has.
  if (!scan.finishedAt) setTimeout(() => void poll(), 500);
}
await poll();
