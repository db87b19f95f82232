// Helpers shared by every widget's ESM. `_base.py` puts this file in front of each widget's
// module, since an ESM loaded by anywidget or Panel cannot import a sibling file.
// User text is always set with textContent, never parsed as HTML.

/** @typedef {{ get: (k: string) => any, set: (k: string, v: any) => void, save_changes: () => void, on: (e: string, f: () => void) => void, off?: (e: string, f: () => void) => void }} Model */

/**
 * @param {string} tag
 * @param {Record<string, any>} [props]
 * @param {(Node|string)[]} [children]
 */
function h(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "text") node.textContent = String(value);
    else if (key === "testid") node.dataset.testid = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

const FILLED = new WeakMap();

/**
 * Put ``build()`` in ``container`` only when ``key`` differs from the last time: a redraw that
 * changes nothing there leaves its nodes in place. A button removed between a press and its
 * release loses its click (even when put back), and answers redraw widgets at any moment.
 * @param {HTMLElement} container @param {string} key @param {() => (Node|string)[]} build
 */
function refill(container, key, build) {
  if (FILLED.get(container) === key) return;
  FILLED.set(container, key);
  container.replaceChildren(...build());
}

// ----- requests: sent as messages; writes carry their own id until Python answers it -----
// Every request is a message (none overwrites another, as a synced trait would). A write gets a
// client-made id ("w-…"), is kept in this page's outbox and in localStorage until Python's
// answer names it in `_done`, is sent again when no answer came for a while or when the page
// is opened again after a closed tab or a lost connection, and Python applies each id once.
const READS = new Set(["refresh", "open", "browse", "read", "show", "select_all", "diff", "person",
  "open_guideline", "members", "project_library", "export_csv"]);
const STORE_KEY = "annotation_kit:outbox";
const RESEND_MS = 20000;  // no answer for this long: sent again (Python applies it once)
const SHOW_PENDING_MS = 800;  // a write unanswered for this long shows as "saving…"
const KEPT_MS = 7 * 24 * 3600 * 1000;
/** @type {WeakMap<Model, {pending: Map<string, {message: any, sent: number}>, redraw: (() => void) | null, timer: any}>} */
const OUTBOXES = new WeakMap();

function writeId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));  // also where randomUUID is not (http)
  return "w-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** @param {Model} model */
function outbox(model) {
  let box = OUTBOXES.get(model);
  if (!box) {
    box = { pending: new Map(), redraw: null, timer: null };
    OUTBOXES.set(model, box);
    model.on("change:_done", () => settle(model));
  }
  return box;
}

/** Where a write belongs: the widget, its user, the task and episode it was made on. @param {Model} model */
function place(model) {
  return JSON.stringify([model.get("_kind"), model.get("user"), model.get("task") ?? null, model.get("dataset") ?? null]);
}

function stored() {
  try { return JSON.parse(localStorage.getItem(STORE_KEY) || "[]"); } catch { return []; }
}
/** @param {(entries: any[]) => any[]} change */
function restore(change) {
  try {
    const now = Date.now();
    localStorage.setItem(STORE_KEY, JSON.stringify(change(stored()).filter((e) => now - e.at < KEPT_MS)));
  } catch { /* storage full or refused: the in-page outbox still re-sends */ }
}

/** @param {Model} model @param {any} message */
function transmit(model, message) {
  if (typeof model.send === "function") model.send(message);  // anywidget (JupyterLab, VS Code...)
  else if (model.view?.model_proxy?.send_msg) model.view.model_proxy.send_msg(message);  // Panel
  else { model.set("_request", message); model.save_changes(); }
}

/** @param {Model} model @param {string} action @param {Record<string, any>} [extra] */
function request(model, action, extra = {}) {
  // a field never typed in is undefined, which Bokeh cannot send: leave it out
  const sent = Object.fromEntries(Object.entries(extra).filter(([, v]) => v !== undefined));
  if (READS.has(action)) {
    transmit(model, { id: `r-${Date.now()}-${Math.random()}`, action, ...sent });
    return;
  }
  const message = { id: writeId(), action, ...sent };
  const box = outbox(model);
  box.pending.set(message.id, { message, sent: Date.now() });
  restore((all) => [...all, { id: message.id, place: place(model), message, at: Date.now() }]);
  transmit(model, message);
  setTimeout(() => { if (box.pending.has(message.id)) box.redraw?.(); }, SHOW_PENDING_MS);
  if (!box.timer) box.timer = setInterval(() => resend(model), RESEND_MS / 2);
}

/** Writes Python has answered leave the outbox. @param {Model} model */
function settle(model) {
  const box = outbox(model);
  const done = new Set(model.get("_done") || []);
  let shown = false;
  for (const [id, entry] of box.pending) {
    if (!done.has(id)) continue;
    shown ||= Date.now() - entry.sent >= SHOW_PENDING_MS;
    box.pending.delete(id);
  }
  restore((all) => all.filter((e) => !done.has(e.id)));
  if (shown) box.redraw?.();
}

/** @param {Model} model */
function resend(model) {
  const box = outbox(model);
  const now = Date.now();
  for (const entry of box.pending.values()) {
    if (now - entry.sent < RESEND_MS) continue;
    entry.sent = now;
    transmit(model, entry.message);
  }
  if (!box.pending.size) { clearInterval(box.timer); box.timer = null; }
}

/** Writes made here before the tab closed or the connection broke, never answered: again. @param {Model} model */
function resendStored(model) {
  const box = outbox(model);
  const here = place(model);
  for (const entry of stored()) {
    if (entry.place !== here || box.pending.has(entry.id)) continue;
    box.pending.set(entry.id, { message: entry.message, sent: Date.now() });
    transmit(model, entry.message);
  }
  if (box.pending.size && !box.timer) box.timer = setInterval(() => resend(model), RESEND_MS / 2);
}

/** How many writes wait for an answer longer than a moment. @param {Model} model */
function unanswered(model) {
  const now = Date.now();
  return [...outbox(model).pending.values()].filter((e) => now - e.sent >= SHOW_PENDING_MS).length;
}

/** @param {Model} model @param {Record<string, any>} values */
function update(model, values) {
  for (const [key, value] of Object.entries(values)) model.set(key, value);
  model.save_changes();
}

/** The error / notice lines of the last answer from Python. @param {Model} model */
function messages(model) {
  const out = [];
  const waiting = unanswered(model);
  if (waiting) out.push(h("div", { class: "ak-pending", testid: "pending", role: "status",
    text: `saving… ${waiting} change${waiting === 1 ? "" : "s"} not yet confirmed by the server` }));
  if (model.get("_error")) out.push(h("div", { class: "ak-error", testid: "error", text: model.get("_error") }));
  if (model.get("_notice")) out.push(h("div", { class: "ak-notice", testid: "notice", text: model.get("_notice") }));
  return out;
}

/**
 * A <select> bound to a string trait; the first option means "any".
 * @param {Model} model @param {string} name @param {string[]} options @param {string} anyLabel
 */
function choice(model, name, options, anyLabel) {
  const node = h("select", { testid: `filter-${name}`,
    onchange: (e) => update(model, { [name]: e.target.value, page: 1 }) },
    [h("option", { value: "", text: anyLabel }), ...options.map((o) => h("option", { value: o, text: o }))]);
  node.value = model.get(name);
  return node;
}

/**
 * Redraw when Python answers (`_revision`) or a local-only trait changes; returns the cleanup.
 * An answer arrives as one message whose changes are applied one by one, `_revision` maybe
 * first: the redraw waits for the end of the message (a microtask), and runs once for it.
 * @param {Model} model @param {string[]} local @param {() => void} draw
 */
function subscribe(model, local, draw) {
  const names = ["_revision", ...local];
  let queued = false;
  const redraw = () => {
    if (queued) return;
    queued = true;
    queueMicrotask(() => { queued = false; draw(); });
  };
  for (const name of names) model.on(`change:${name}`, redraw);
  outbox(model).redraw = redraw;
  resendStored(model);
  const onVisible = () => { if (document.visibilityState === "visible") request(model, "refresh"); };
  document.addEventListener("visibilitychange", onVisible);
  return () => {
    document.removeEventListener("visibilitychange", onVisible);
    for (const name of names) model.off?.(`change:${name}`, redraw);
  };
}
