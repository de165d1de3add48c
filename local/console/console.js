// The local console: plain browser JavaScript, served by `npm start` (no build step, no CDN). It reads the
// endpoint's own JSON under /_local/ and /documents, and sends examples the way the N3 sender does.
// Every value from the endpoint is put into the page as text, never as markup.

const TEXT = {
  ru: {
    title: 'Обратные вызовы N3 — локальная консоль',
    queue: 'очередь МИС',
    dlq: 'недоставленные',
    send: 'Отправить пример',
    arrivals: 'Поступающие сообщения',
    arrivalsCaption: 'За последний час, новые сверху; обновляется каждые 2 с',
    time: 'время',
    type: 'тип',
    state: 'состояние',
    document: 'документ',
    size: 'размер',
    rejected: 'Отклонённые запросы',
    rejectedCaption: 'За последние сутки: почему отклонён каждый; тело — только по запросу',
    reason: 'причина',
    details: 'подробности',
    documentStatus: 'Статус документа',
    documentId: 'Идентификатор документа (IdMedDocumentMis / IdSourceMis / IdMSEMis / IdDocumentMis)',
    show: 'Показать',
    showBody: 'Показать тело',
    sent: (type, status, answer) => `${type}: HTTP ${status}, ${answer}`,
    noDocument: (id) => `Нет документа «${id}»: о нём ничего не поступало`,
    stage: 'этап',
    detail: 'детали',
    message: 'сообщение',
    timeline: 'Хронология',
    bodyLabel: '--- тело ---',
    messageHeading: 'Сообщение',
    messageCaption:
      'Нажмите MessageId поступившего сообщения: его запись, состояние и данные (из таблицы или из хранилища S3), не из очереди',
    received: 'получено',
    expires: 'хранится до',
    forwardedAt: 'передано в очередь',
    refusal: 'отказ очереди',
    payload: 'данные',
    payloadInline: (bytes) => `${bytes} байт, в самой записи`,
    payloadClaim: (bytes, where, ok) => `${bytes} байт, в хранилище: ${where}${ok ? ' (sha256 совпадает)' : ' (sha256 НЕ совпадает)'}`,
    payloadGone: (bytes) => `${bytes} байт; объект в хранилище уже удалён по сроку хранения`,
    noMessage: (id) => `Нет сообщения «${id}»`,
    simulation: 'симуляция',
    language: 'English',
  },
  en: {
    title: 'N3 callbacks — local console',
    queue: 'MIS queue',
    dlq: 'dead letters',
    send: 'Send an example',
    arrivals: 'Callbacks as they arrive',
    arrivalsCaption: 'Last hour, newest first; refreshed every 2 s',
    time: 'time',
    type: 'type',
    state: 'state',
    document: 'document',
    size: 'size',
    rejected: 'Rejected requests',
    rejectedCaption: 'Last day: why each was rejected; the body only on request',
    reason: 'reason',
    details: 'details',
    documentStatus: 'Document status',
    documentId: 'Document id (IdMedDocumentMis / IdSourceMis / IdMSEMis / IdDocumentMis)',
    show: 'Show',
    showBody: 'Show body',
    sent: (type, status, answer) => `${type}: HTTP ${status}, ${answer}`,
    noDocument: (id) => `No document "${id}": nothing received about it`,
    stage: 'stage',
    detail: 'detail',
    message: 'message',
    timeline: 'Timeline',
    bodyLabel: '--- body ---',
    messageHeading: 'Message',
    messageCaption:
      "Click an arrival's MessageId: its record, state and payload (from the table or the S3 claim check), never from the queue",
    received: 'received',
    expires: 'kept until',
    forwardedAt: 'forwarded to the queue',
    refusal: "queue's refusal",
    payload: 'payload',
    payloadInline: (bytes) => `${bytes} bytes, inline in the record`,
    payloadClaim: (bytes, where, ok) => `${bytes} bytes, claim check ${where}${ok ? ' (sha256 matches)' : ' (sha256 DIFFERS)'}`,
    payloadGone: (bytes) => `${bytes} bytes; the claim check's object has expired`,
    noMessage: (id) => `No message "${id}"`,
    simulation: 'simulation',
    language: 'Русский',
  },
};

let language = (localStorage.getItem('n3-console-language') ?? navigator.language ?? 'ru').startsWith('en') ? 'en' : 'ru';
const t = (key) => TEXT[language][key];
const base = new URL('../', location.href); // the console lives at <base>/_local/

// What each panel shows now, so that switching language redraws it in the other one.
const shown = { document: undefined, message: undefined, rejected: undefined, sent: undefined };

function applyLanguage() {
  document.documentElement.lang = language;
  for (const element of document.querySelectorAll('[data-t]')) element.textContent = t(element.dataset.t);
  const toggle = document.getElementById('language');
  toggle.textContent = t('language');
  toggle.setAttribute('aria-pressed', String(language === 'en'));
  document.title = t('title');
}

const cell = (text, className) => {
  const td = document.createElement('td');
  td.textContent = text ?? '';
  if (className) td.className = className;
  return td;
};
const row = (...cells) => {
  const tr = document.createElement('tr');
  tr.append(...cells);
  return tr;
};
const kb = (bytes) => (bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KB`);

async function getJson(path) {
  const response = await fetch(new URL(path, base));
  return { status: response.status, body: await response.json() };
}

async function refreshArrivals() {
  const { body } = await getJson('_local/arrivals');
  const tbody = document.querySelector('#arrivals tbody');
  tbody.replaceChildren(
    ...body.reverse().map((a) => {
      const documentCell = document.createElement('td');
      const link = document.createElement('button');
      link.type = 'button';
      link.textContent = a.documentKey;
      link.addEventListener('click', () => showDocument(a.documentKey));
      documentCell.append(link);
      const tr = row(
        cell(a.receivedAt.slice(11, 19)),
        cell(a.messageType),
        cell(a.status, a.status),
        cell(a.state, a.state),
        cell(a.lpu, 'id'),
        documentCell,
        cell(kb(a.bytes)),
        messageIdCell(a.messageId),
      );
      tr.dataset.messageId = a.messageId;
      return tr;
    }),
  );
}

function messageIdCell(messageId) {
  const td = document.createElement('td');
  td.className = 'id';
  const button = document.createElement('button');
  button.type = 'button';
  button.textContent = `${messageId.slice(0, 8)}…`;
  button.title = messageId;
  button.setAttribute('aria-label', `MessageId ${messageId}`);
  button.addEventListener('click', () => showMessage(messageId));
  td.append(button);
  return td;
}

async function showMessage(messageId) {
  shown.message = messageId;
  const target = document.getElementById('message-detail');
  const { status, body } = await getJson(`_local/messages/${encodeURIComponent(messageId)}`);
  if (status === 404) {
    const p = document.createElement('p');
    p.textContent = t('noMessage')(messageId);
    target.replaceChildren(p);
    return;
  }
  const { record, payload, payloadSource } = body;
  const where = payloadSource.inline
    ? t('payloadInline')(record.payloadBytes)
    : payloadSource.gone
      ? t('payloadGone')(record.payloadBytes)
      : t('payloadClaim')(record.payloadBytes, `s3://${payloadSource.bucket}/${payloadSource.key}`, payloadSource.sha256Matches);
  const facts = [
    ['MessageId', record.messageId],
    [t('type'), record.messageType],
    ['Status', record.status],
    [t('state'), record.state],
    ...(record.forwardedAt ? [[t('forwardedAt'), record.forwardedAt]] : []),
    ...(record.refusal ? [[t('refusal'), record.refusal]] : []),
    ['Lpu', record.lpu],
    [t('document'), record.documentKey],
    [t('received'), record.receivedAt],
    [t('expires'), new Date(record.expiresAt * 1000).toISOString()],
    [t('payload'), where],
    ...(record.simulation ? [[t('simulation'), record.simulation.runId]] : []),
  ];
  const list = document.createElement('dl');
  for (const [name, value] of facts)
    list.append(
      Object.assign(document.createElement('dt'), { textContent: name }),
      Object.assign(document.createElement('dd'), { textContent: value }),
    );
  const pre = document.createElement('pre');
  pre.className = 'payload';
  pre.textContent = payload === null ? '' : JSON.stringify(payload, null, 2);
  target.replaceChildren(list, pre);
  document.getElementById('message-heading').scrollIntoView({ block: 'nearest' });
}

async function refreshRejected() {
  const { body } = await getJson('_local/rejected');
  const tbody = document.querySelector('#rejected tbody');
  tbody.replaceChildren(
    ...body.reverse().map((r) => {
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = t('showBody');
      button.addEventListener('click', () => showRejected(r.key));
      const actions = document.createElement('td');
      actions.append(button);
      return row(cell(r.time.slice(11, 19)), cell(r.status, 'Failed'), cell(r.code), cell(r.type), actions);
    }),
  );
}

async function showRejected(key, focus = true) {
  shown.rejected = key;
  const { body } = await getJson(`_local/${key.split('/').map(encodeURIComponent).join('/')}?body=1`);
  const detail = document.getElementById('rejected-detail');
  const { body: sent, headers, ...facts } = body;
  detail.textContent = `${JSON.stringify(facts, null, 2)}\n${t('bodyLabel')}\n${sent}`;
  detail.hidden = false;
  if (focus) detail.focus();
}

async function refreshQueues() {
  const { body } = await getJson('_local/queues');
  document.getElementById('queue-depth').textContent = String(body.queue.visible + body.queue.inFlight);
  document.getElementById('dlq-depth').textContent = String(body.deadLetters.visible + body.deadLetters.inFlight);
}

async function setUpSendButtons() {
  const { body: examples } = await getJson('_local/examples');
  const container = document.getElementById('send-buttons');
  for (const [type, example] of Object.entries(examples)) {
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = type;
    button.addEventListener('click', async () => {
      const message = { ...example, MessageId: crypto.randomUUID() };
      const response = await fetch(new URL(type, base), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json; charset=utf-8' },
        body: JSON.stringify(message),
      });
      const ack = await response.json();
      shown.sent = [type, response.status, `${ack.Status} — ${ack.Message}`];
      showSent();
      await refreshAll();
    });
    container.append(button);
  }
}

function showSent() {
  if (shown.sent) document.getElementById('send-result').textContent = t('sent')(...shown.sent);
}

async function showDocument(documentId) {
  shown.document = documentId;
  document.getElementById('document-id').value = documentId;
  const target = document.getElementById('document');
  const { status, body } = await getJson(`documents/${encodeURIComponent(documentId)}`);
  if (status === 404) {
    const p = document.createElement('p');
    p.textContent = t('noDocument')(documentId);
    target.replaceChildren(p);
    return;
  }
  const heading = document.createElement('h3');
  heading.textContent = `${t('document')} ${body.documentId}`;
  const stages = document.createElement('table');
  stages.className = 'stages';
  const head = document.createElement('thead');
  head.append(
    row(
      ...[t('stage'), t('state'), t('detail'), t('message')].map((h) =>
        Object.assign(document.createElement('th'), { scope: 'col', textContent: h }),
      ),
    ),
  );
  const rows = [];
  if (body.cda)
    rows.push(row(cell('cda'), cell(body.cda.state, body.cda.state), cell(body.cda.idMedDocument ?? ''), cell(body.cda.message)));
  if (body.semd) rows.push(row(cell('semd'), cell(body.semd.state, body.semd.state), cell(''), cell(body.semd.message)));
  if (body.remd)
    rows.push(
      row(
        cell('remd'),
        cell(body.remd.state, body.remd.state),
        cell(body.remd.regNumber ? `№ ${body.remd.regNumber}` : ''),
        cell(body.remd.message),
      ),
    );
  if (body.mse) rows.push(row(cell('mse'), cell(body.mse.state, body.mse.state), cell(body.mse.idResultMse ?? ''), cell(body.mse.message)));
  for (const a of body.vimis ?? [])
    rows.push(row(cell('vimis'), cell(a.state, a.state), cell(`${a.recipientSystem}, SMS ${a.docType}`), cell(a.message)));
  const tbody = document.createElement('tbody');
  tbody.append(...rows);
  stages.append(head, tbody);
  const timelineHeading = document.createElement('h4');
  timelineHeading.textContent = t('timeline');
  const timeline = document.createElement('ol');
  timeline.className = 'timeline';
  for (const entry of body.timeline) {
    const li = document.createElement('li');
    li.textContent = `${entry.receivedAt} ${entry.messageType} ${entry.status} ${entry.messageId}`;
    timeline.append(li);
  }
  target.replaceChildren(heading, stages, timelineHeading, timeline);
}

async function refreshAll() {
  await Promise.all([refreshArrivals(), refreshRejected(), refreshQueues()]);
}

document.getElementById('language').addEventListener('click', () => {
  language = language === 'en' ? 'ru' : 'en';
  localStorage.setItem('n3-console-language', language);
  applyLanguage();
  // Every panel drawn from data says its words again, in the new language.
  showSent();
  void refreshRejected();
  if (shown.document !== undefined) void showDocument(shown.document);
  if (shown.message !== undefined) void showMessage(shown.message);
  if (shown.rejected !== undefined) void showRejected(shown.rejected, false);
});
document.getElementById('document-form').addEventListener('submit', (event) => {
  event.preventDefault();
  void showDocument(document.getElementById('document-id').value.trim());
});

applyLanguage();
await setUpSendButtons();
await refreshAll();
setInterval(() => void refreshAll().catch(() => undefined), 2_000);
