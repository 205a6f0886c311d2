// The Flowgate dashboard: a client of the public REST API and the Socket.IO topics, nothing else.
// Every value from the server is written with textContent, never as HTML: message texts and
// workflow names come from customers and business users.

const TOPICS = ['executions', 'workflows', 'messages', 'delivery', 'consent', 'audit', 'rate-limits', 'analytics'];
const LIST_LIMIT = 25;
const session = {
  get tokens() { return JSON.parse(sessionStorage.getItem('flowgate.tokens') ?? 'null'); },
  set tokens(value) { if (value) sessionStorage.setItem('flowgate.tokens', JSON.stringify(value)); else sessionStorage.removeItem('flowgate.tokens'); },
};
const $ = (id) => document.getElementById(id);
let socket = null;
let chart = null;

// ---------------------------------------------------------------------------------------------
// REST

class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.error?.code;
  }
}

async function call(method, path, body, token) {
  const response = await fetch(path, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const parsed = text ? JSON.parse(text) : null;
  if (!response.ok) throw new ApiError(response.status, parsed);
  return parsed;
}

/** Calls the API with the access token; on 401 swaps the refresh token once, then signs out. */
async function api(method, path, body) {
  const tokens = session.tokens;
  if (!tokens) throw new ApiError(401, null);
  try {
    return await call(method, path, body, tokens.accessToken);
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401) throw error;
    try {
      const renewed = await call('POST', '/api/auth/refresh', { refreshToken: tokens.refreshToken });
      session.tokens = { ...tokens, accessToken: renewed.accessToken, refreshToken: renewed.refreshToken };
    } catch {
      signOut('Your session ended; sign in again.');
      throw error;
    }
    return call(method, path, body, session.tokens.accessToken);
  }
}

/** A panel whose data is not there (plugin not loaded, role too low) says so instead of breaking the page. */
async function load(panel, loader) {
  try {
    await loader();
  } catch (error) {
    const note = error instanceof ApiError && error.status === 404 ? 'not available on this server' : error instanceof ApiError && error.status === 403 ? 'your role cannot see this' : error.message;
    $(panel).replaceChildren(element($(panel).tagName === 'UL' ? 'li' : 'p', { className: 'note' }, note));
  }
}

// ---------------------------------------------------------------------------------------------
// DOM helpers

function element(tag, { dataset = {}, ...props } = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  Object.assign(node.dataset, dataset);
  for (const child of children) if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  return node;
}
const badge = (value) => element('span', { className: `badge ${value}` }, value);
const time = (iso) => (iso ? new Date(iso).toLocaleTimeString() : '');
const debounce = (fn, ms = 300) => { let timer; return () => { clearTimeout(timer); timer = setTimeout(fn, ms); }; };
const prepend = (list, node, keep = LIST_LIMIT) => { list.prepend(node); while (list.children.length > keep) list.lastElementChild.remove(); };

// ---------------------------------------------------------------------------------------------
// Executions

const executions = new Map();
let selectedExecution = null;

function renderExecution(execution) {
  const known = executions.get(execution.id) ?? { steps: 0 };
  const merged = { ...known, ...execution };
  executions.set(merged.id, merged);
  const row = element('tr', { className: `clickable${selectedExecution === merged.id ? ' selected' : ''}`, onclick: () => void showTrail(merged.id) },
    element('td', {}, time(merged.createdAt)), element('td', {}, merged.workflowId), element('td', {}, badge(merged.status)),
    element('td', {}, merged.steps), element('td', {}, merged.durationMs === undefined ? '' : `${merged.durationMs} ms`));
  row.dataset.executionId = merged.id;
  row.dataset.status = merged.status;
  const existing = $('executions').querySelector(`tr[data-execution-id="${CSS.escape(merged.id)}"]`);
  if (existing) existing.replaceWith(row); else prepend($('executions'), row);
}

async function showTrail(id) {
  selectedExecution = id;
  for (const row of $('executions').children) row.classList.toggle('selected', row.dataset.executionId === id);
  const execution = await api('GET', `/api/executions/${encodeURIComponent(id)}`);
  const steps = (execution.steps ?? []).map((step) => element('li', {},
    `${step.stepId}${step.action ? ` (${step.action})` : ''} `, badge(step.status), ` ${step.durationMs} ms`,
    ...(step.decisions ?? []).map((d) => element('div', { className: 'note' }, `${d.policy}: ${d.decision}${d.reason ? ` — ${d.reason}` : ''}`)),
    step.error ? element('div', { className: 'error' }, `${step.error.code}: ${step.error.message}`) : null));
  $('trail').hidden = false;
  $('trail').replaceChildren(element('h3', {}, `Steps of ${execution.workflowId} — `, badge(execution.status)),
    steps.length ? element('ol', { dataset: { testid: 'trail' } }, ...steps) : element('p', { className: 'note' }, 'No step has run yet.'));
}

async function loadExecutions() {
  const page = await api('GET', `/api/executions?limit=${LIST_LIMIT}`);
  $('executions').replaceChildren();
  for (const execution of page.items.reverse()) renderExecution(execution);
}

// ---------------------------------------------------------------------------------------------
// Workflows, with enable/disable and dry runs

async function loadWorkflows() {
  const { items } = await api('GET', '/api/workflows');
  $('workflows').replaceChildren(...items.map((workflow) => {
    const toggle = element('button', { className: 'quiet', onclick: () => void setEnabled(workflow.id, !workflow.enabled) }, workflow.enabled ? 'Disable' : 'Enable');
    const dryRun = element('button', { className: 'quiet', onclick: () => openDryRun(workflow.id) }, 'Dry run');
    const item = element('li', {}, element('span', { className: 'grow' }, element('strong', {}, workflow.name ?? workflow.id), element('div', { className: 'note' }, `${workflow.triggerType} · v${workflow.version}`)),
      badge(workflow.enabled ? 'on' : 'off'), toggle, dryRun);
    item.dataset.workflowId = workflow.id;
    return item;
  }));
}

async function setEnabled(id, enabled) {
  await api('POST', `/api/workflows/${encodeURIComponent(id)}/${enabled ? 'enable' : 'disable'}`);
  await loadWorkflows();
}

function openDryRun(id) {
  $('dry-run').hidden = false;
  $('dry-run-id').textContent = id;
  $('dry-run-result').textContent = '';
}

async function runDryRun() {
  const id = $('dry-run-id').textContent;
  let event;
  try {
    event = JSON.parse($('dry-run-event').value);
  } catch (error) {
    $('dry-run-result').textContent = `The event is not valid JSON: ${error.message}`;
    return;
  }
  try {
    const result = await api('POST', `/api/workflows/${encodeURIComponent(id)}/test`, { event });
    const lines = [`matched: ${result.matched}${result.reason ? ` (${result.reason})` : ''}`, `status: ${result.status}`,
      ...result.steps.map((s) => `  ${s.stepId}: ${s.status}${(s.decisions ?? []).map((d) => ` [${d.policy} ${d.decision}]`).join('')}`)];
    $('dry-run-result').textContent = lines.join('\n');
  } catch (error) {
    $('dry-run-result').textContent = error.message;
  }
}

// ---------------------------------------------------------------------------------------------
// Consent, messages, audit

function consentRow(change) {
  const evidence = change.evidence?.text ? `“${change.evidence.text}”` : change.evidence?.actor ?? '';
  const item = element('li', {}, badge(change.state), element('span', { className: 'grow' }, `+${change.phone}`), element('span', { className: 'note' }, `${change.source ?? ''} ${evidence}`), element('span', { className: 'note' }, time(change.changedAt)));
  item.dataset.phone = change.phone;
  item.dataset.state = change.state;
  return item;
}

async function loadConsent() {
  const { items } = await api('GET', `/api/consent?limit=${LIST_LIMIT}`);
  $('consent').replaceChildren(...items.map(consentRow));
}

function renderMessage(message) {
  const content = message.text ?? (message.template ? `template ${message.template.name ?? ''}` : message.type);
  const row = element('tr', {}, element('td', {}, time(message.createdAt)), element('td', {}, message.direction === 'inbound' ? 'in' : 'out'),
    element('td', {}, message.phone ? `+${message.phone}` : ''), element('td', { className: 'text' }, content), element('td', {}, badge(message.status)));
  row.dataset.messageId = message.id;
  const existing = $('messages').querySelector(`tr[data-message-id="${CSS.escape(message.id)}"]`);
  if (existing) existing.replaceWith(row); else prepend($('messages'), row);
}

function updateMessageStatus(update) {
  const row = $('messages').querySelector(`tr[data-message-id="${CSS.escape(update.messageId)}"]`);
  if (row && update.applied !== false) row.lastElementChild.replaceChildren(badge(update.current ?? update.status));
}

async function loadMessages() {
  const { items } = await api('GET', `/api/messages?limit=${LIST_LIMIT}`);
  $('messages').replaceChildren();
  for (const message of items.reverse()) renderMessage(message);
}

function auditRow(entry) {
  return element('li', {}, element('span', { className: 'note' }, time(entry.at)), element('strong', {}, entry.action),
    element('span', { className: 'grow' }, `${entry.resource.type}${entry.resource.id ? `/${entry.resource.id}` : ''}`), element('span', { className: 'note' }, `${entry.actor.kind}:${entry.actor.id}`));
}

async function loadAudit() {
  const { items } = await api('GET', `/api/audit/logs?limit=${LIST_LIMIT}`);
  $('audit').replaceChildren(...items.map(auditRow));
}

// ---------------------------------------------------------------------------------------------
// Rate limits and analytics

function gauge(label, used, limit) {
  const share = limit ? Math.min(1, used / limit) : 0;
  const fill = element('div', { className: `fill${share >= 1 ? ' full' : share >= 0.8 ? ' high' : ''}` });
  fill.style.width = `${Math.round(share * 100)}%`;
  return element('div', { className: 'gauge' }, element('div', { className: 'label' }, element('span', {}, label), element('span', {}, limit ? `${used} / ${limit}` : `${used} / unlimited`)),
    element('div', { className: 'bar' }, fill));
}

async function loadRateLimits() {
  const { items } = await api('GET', '/api/rate-limits');
  $('rate-limits').replaceChildren(...items.map((sender) => {
    const { usage, limits } = sender;
    const block = element('div', {}, element('h3', {}, `Sender ${sender.phoneNumberId} `, badge(sender.paused ? 'paused' : 'ok'), ' ', element('span', { className: 'note' }, sender.tier)),
      gauge('This second', usage.second, limits.perSecond), gauge('This hour', usage.hour, limits.hourly), gauge('Today', usage.day, limits.daily),
      gauge(`Unique recipients, 24 h${sender.portfolio ? ` (portfolio ${sender.portfolio})` : ''}`, usage.uniqueRecipients, sender.messagingLimit));
    block.dataset.phoneNumberId = sender.phoneNumberId;
    return block;
  }));
  if (!items.length) $('rate-limits').replaceChildren(element('p', { className: 'note' }, 'No sender number has sent yet.'));
}

async function loadAnalytics() {
  $('analytics-chart').hidden = true;
  // The period runs to the end of the current hour (the server's default `to`).
  const from = new Date(Date.now() - 23 * 3600_000);
  const tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const series = await api('GET', `/api/analytics/messages?from=${from.toISOString()}&interval=hour&tz=${encodeURIComponent(tz)}`);
  const labels = series.buckets.map((b) => new Date(b.start).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }));
  const statuses = Object.keys(series.totals).filter((status) => series.totals[status] > 0);
  const datasets = statuses.map((status) => ({ label: status, data: series.buckets.map((b) => b[status]), tension: 0.3 }));
  if (!chart) chart = new Chart($('analytics-chart'), { type: 'line', data: { labels, datasets }, options: { animation: false, plugins: { legend: { position: 'bottom' } } } });
  else {
    chart.data.labels = labels;
    chart.data.datasets = datasets;
    chart.update();
  }
  $('analytics-chart').hidden = false;
  $('analytics-note').textContent = statuses.length ? '' : 'No message in the last 24 hours.';
}

// ---------------------------------------------------------------------------------------------
// Realtime

// The server closes a socket whose credentials it could not check for a while (its database
// unreachable) with `session.unverified`, and refuses a handshake it cannot check with UNAVAILABLE.
// Neither is a verdict on the session, and Socket.IO retries neither by itself: connect again,
// 1 s doubling to 30 s with jitter (so that many dashboards do not return at the same instant).
const RETRY = { firstMs: 1_000, maxMs: 30_000 };
const retry = { attempt: 0, timer: null };

function showConnection(text, state) {
  const status = $('connection');
  status.textContent = text;
  status.className = `badge ${state}`;
}

function reconnectLater() {
  clearTimeout(retry.timer);
  const ceilingMs = Math.min(RETRY.maxMs, RETRY.firstMs * 2 ** retry.attempt++);
  retry.timer = setTimeout(() => socket?.connect(), ceilingMs / 2 + Math.random() * ceilingMs / 2);
  showConnection('reconnecting — server could not verify your session', 'waiting');
}

function stopReconnecting() {
  clearTimeout(retry.timer);
  retry.attempt = 0;
}

function connect() {
  stopReconnecting();
  socket?.disconnect();
  // `auth` as a function: every reconnection presents the latest (possibly refreshed) token.
  socket = io({ transports: ['websocket'], auth: (send) => send({ token: session.tokens?.accessToken }) });
  let connectedBefore = false;
  socket.on('connect', () => {
    stopReconnecting();
    showConnection('live', 'on');
    // Events raised while this page was disconnected are not replayed: read the panels again.
    if (connectedBefore) void loadPanels();
    connectedBefore = true;
    // Subscriptions end with the connection: subscribe again on every (re)connect.
    socket.emit('subscribe', TOPICS, (result) => {
      if (result.denied.length) $('connection').title = `Not subscribed: ${result.denied.map((d) => `${d.topic} (${d.reason})`).join(', ')}`;
    });
  });
  socket.on('disconnect', () => showConnection('offline', 'off'));
  socket.on('connect_error', (error) => {
    if (error.message === 'UNAVAILABLE') reconnectLater();
    else showConnection('offline', 'off');
  });
  socket.on('session.revoked', () => signOut('Your session was revoked.'));
  socket.on('session.unverified', () => {
    // The server closes this connection next; end it here so that the retry starts from a closed socket.
    socket.disconnect();
    reconnectLater();
  });

  socket.on('execution.started', (e) => renderExecution({ id: e.executionId, workflowId: e.workflowId, status: 'running', createdAt: e.at }));
  socket.on('execution.step', (e) => {
    const known = executions.get(e.executionId);
    renderExecution({ id: e.executionId, workflowId: e.workflowId, status: known?.status ?? 'running', createdAt: known?.createdAt ?? e.at, steps: (known?.steps ?? 0) + 1 });
    if (selectedExecution === e.executionId) void showTrail(e.executionId);
  });
  socket.on('execution.waiting', (e) => renderExecution({ id: e.executionId, workflowId: e.workflowId, status: 'waiting' }));
  socket.on('execution.finished', (e) => {
    renderExecution({ id: e.executionId, workflowId: e.workflowId, status: e.status, durationMs: e.durationMs, createdAt: executions.get(e.executionId)?.createdAt ?? e.at });
    if (selectedExecution === e.executionId) void showTrail(e.executionId);
  });
  socket.on('workflow.updated', debounce(() => void load('workflows', loadWorkflows)));
  for (const name of ['message.created', 'message.sent', 'message.received', 'message.updated', 'message.failed']) socket.on(name, renderMessage);
  socket.on('status.updated', updateMessageStatus);
  socket.on('consent.changed', (change) => prepend($('consent'), consentRow(change)));
  socket.on('audit.entry', (entry) => prepend($('audit'), auditRow(entry)));
  const refreshLimits = debounce(() => void load('rate-limits', loadRateLimits));
  socket.onAny((event, payload) => {
    if (payload?.topic === 'rate-limits') refreshLimits();
    if (payload?.topic === 'analytics') refreshAnalytics();
  });
}
const refreshAnalytics = debounce(() => void load('analytics-note', loadAnalytics), 1000);

// ---------------------------------------------------------------------------------------------
// Session

async function showBoard() {
  $('login').hidden = true;
  $('board').hidden = false;
  $('sign-out').hidden = false;
  const me = await api('GET', '/api/permissions/me').catch(() => null);
  $('who').textContent = me ? `${session.tokens.email} · ${me.role}` : session.tokens.email;
  connect();
  await loadPanels();
}

async function loadPanels() {
  await Promise.all([load('executions', loadExecutions), load('workflows', loadWorkflows), load('consent', loadConsent), load('messages', loadMessages),
    load('audit', loadAudit), load('rate-limits', loadRateLimits), load('analytics-note', loadAnalytics)]);
}

function signOut(reason = '') {
  const tokens = session.tokens;
  session.tokens = null;
  if (tokens) void call('POST', '/api/auth/logout', { refreshToken: tokens.refreshToken }, tokens.accessToken).catch(() => undefined);
  stopReconnecting();
  socket?.disconnect();
  socket = null;
  $('board').hidden = true;
  $('sign-out').hidden = true;
  $('who').textContent = '';
  $('login').hidden = false;
  $('login-error').textContent = reason;
}

$('login').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  try {
    const tokens = await call('POST', '/api/auth/login', { email: form.get('email'), password: form.get('password') });
    session.tokens = { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken, email: form.get('email') };
    $('login-error').textContent = '';
    await showBoard();
  } catch (error) {
    $('login-error').textContent = error instanceof ApiError && error.status === 401 ? 'Wrong email or password.' : error.message;
  }
});
$('sign-out').addEventListener('click', () => signOut());
$('dry-run-go').addEventListener('click', () => void runDryRun());
$('dry-run-close').addEventListener('click', () => { $('dry-run').hidden = true; });

if (session.tokens) void showBoard(); else signOut();
