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

/** @param {Model} model @param {string} action @param {Record<string, any>} [extra] */
function request(model, action, extra = {}) {
  // a field never typed in is undefined, which Bokeh cannot send: leave it out
  const sent = Object.fromEntries(Object.entries(extra).filter(([, v]) => v !== undefined));
  model.set("_request", { id: Date.now() + Math.random(), action, ...sent });
  model.save_changes();
}

/** @param {Model} model @param {Record<string, any>} values */
function update(model, values) {
  for (const [key, value] of Object.entries(values)) model.set(key, value);
  model.save_changes();
}

/** The error / notice lines of the last answer from Python. @param {Model} model */
function messages(model) {
  const out = [];
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
  const onVisible = () => { if (document.visibilityState === "visible") request(model, "refresh"); };
  document.addEventListener("visibilitychange", onVisible);
  return () => {
    document.removeEventListener("visibilitychange", onVisible);
    for (const name of names) model.off?.(`change:${name}`, redraw);
  };
}
