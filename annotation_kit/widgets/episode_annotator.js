// EpisodeAnnotator front end (JupyterLab and `panel serve`); helpers come from _common.js and
// the shared episode view from _episode_view.js.
// Keys (when no text field has focus): Space play/pause, ←/→ one frame, Shift+←/→ one second,
// Q mark start, R mark end, Enter add the segment (also from the description field), 1–9 pick
// the n-th skill, E apply the form's skill, labels and description to the selected segment
// (selecting one loads its values) and the start / end marked with Q / R since it was selected
// as its new bounds, Del delete the selected segment, Ctrl+Z undo. Python holds the undo history and checks every
// change.

/** @param {{ model: Model, el: HTMLElement }} ctx */
function render({ model, el }) {
  const root = h("div", { class: "ak-widget ak-annotator", testid: "episode-annotator", tabindex: "0" });
  el.append(root);
  const header = h("div");
  const media = h("div");
  const list = h("div");
  let mark = { start: null, end: null };
  let selected = 0;
  const view = episodeView(model, {
    selected: () => selected,
    select: (id) => pick(id),
    redraw: () => draw(),
    redrawMedia: () => { if (model.get("dataset")) media.replaceChildren(...view.media()); },
    edges: true,
    onEdge: (s, changes) => model.get("can_edit") && request(model, "update", { annotation: s.id, version: s.version, changes }),
  });

  // ----- the form: built once so typing survives redraws -----
  const skill = h("select", { testid: "skill" });
  const labels = h("select", { testid: "labels", multiple: "", size: "3" });
  const description = h("input", { testid: "description", placeholder: "Language description", list: "" });
  const suggestions = h("datalist", { id: `ak-suggest-${Math.random().toString(36).slice(2)}` });
  description.setAttribute("list", suggestions.id);
  // Enter in the description adds the segment, as Enter does everywhere else in the annotator
  description.addEventListener("keydown", (e) => { if (e.key === "Enter" && !e.isComposing) { e.preventDefault(); add(); root.focus(); } });
  const markInfo = h("span", { testid: "mark", class: "ak-muted" });
  const reason = h("input", { testid: "invalid-reason", placeholder: "Reason (to mark invalid)" });
  const applyButton = h("button", { testid: "apply-edit", onclick: () => apply() });
  const form = h("div", { class: "ak-toolbar ak-segment-form" }, [
    markInfo, skill, labels, description, suggestions,
    h("button", { class: "ak-on", text: "Add segment ⏎", testid: "add", onclick: () => add() }),
    applyButton,
  ]);
  const invalidBar = h("div", { class: "ak-toolbar" }, [reason,
    h("button", { text: "Mark selected segment invalid", testid: "invalid-segment", onclick: () => invalid(true) }),
    h("button", { text: "Mark episode invalid", testid: "invalid-episode", onclick: () => invalid(false) }),
    h("button", { text: "Copy segments to the other episodes (template)", testid: "template",
      onclick: () => request(model, "template") }),
    h("button", { text: "Undo (Ctrl+Z)", testid: "undo", onclick: () => request(model, "undo") }),
  ]);

  const setOptions = (select, values, keepMulti) => {
    const now = keepMulti ? new Set([...select.selectedOptions].map((o) => o.value)) : select.value;
    const want = JSON.stringify(values);
    if (select.dataset.values === want) return;
    select.dataset.values = want;
    select.replaceChildren(...(keepMulti ? [] : [h("option", { value: "", text: "(no skill)" })]),
      ...values.map((v, i) => h("option", { value: v, text: keepMulti ? v : `${i + 1}. ${v}` })));
    if (keepMulti) for (const o of select.options) o.selected = now.has(o.value);
    else select.value = values.includes(now) ? now : "";
  };

  function add() {
    if (mark.start === null || mark.end === null) {
      model.set("_error", "mark a start (Q) and an end (R) first");
      draw();
      return;
    }
    const [start, end] = mark.start <= mark.end ? [mark.start, mark.end] : [mark.end, mark.start];
    request(model, "add", { start_ns: start, end_ns: end, skill: skill.value,
      labels: [...labels.selectedOptions].map((o) => o.value), description: description.value });
    mark = { start: null, end: null };  // the skill stays: Q, R, Enter repeats it
    description.value = "";
    showMark();
  }

  /** Select a segment and put its skill, labels and description in the form, to edit them
   * (Q / R then mark its new start / end, E applies). */
  function pick(id) {
    selected = id;
    if (mark.start !== null || mark.end !== null) { mark = { start: null, end: null }; showMark(); }
    const s = model.get("segments").find((x) => x.id === id);
    if (s) {
      skill.value = model.get("skills").includes(s.skill) ? s.skill : "";
      for (const o of labels.options) o.selected = s.labels.includes(o.value);
      description.value = s.description;
    }
    draw();
  }

  /** Save the form's skill, labels and description on the selected segment, and a start / end
   * marked with Q / R since it was selected (versioned, undoable). */
  function apply() {
    const s = model.get("segments").find((x) => x.id === selected);
    if (!s) {
      model.set("_error", "select a segment first (click it), then change its skill, labels, description or bounds (Q / R)");
      draw();
      return;
    }
    const changes = { labels: [...labels.selectedOptions].map((o) => o.value), description: description.value };
    // a skill no longer offered (deprecated, or not the project's) stays unless another is picked
    if (skill.value || model.get("skills").includes(s.skill)) changes.skill = skill.value;
    if (s.kind === "segment") {  // bounds marked with Q / R since it was selected
      const start = mark.start ?? s.start_ns, end = mark.end ?? s.end_ns;
      if (mark.start !== null || mark.end !== null) Object.assign(changes, { start_ns: Math.min(start, end), end_ns: Math.max(start, end) });
    }
    request(model, "update", { annotation: s.id, version: s.version, changes });
    if (mark.start !== null || mark.end !== null) { mark = { start: null, end: null }; showMark(); }
  }

  function invalid(segment) {
    const found = model.get("segments").find((s) => s.id === selected);
    if (segment && !found) {
      model.set("_error", "select a segment first");
      draw();
      return;
    }
    request(model, "invalid", { reason: reason.value, ...(segment ? { annotation: found.id, version: found.version } : {}) });
    reason.value = "";
  }

  function showMark() {
    markInfo.textContent = `start ${mark.start === null ? "—" : fmt(mark.start)} s · end ${mark.end === null ? "—" : fmt(mark.end)} s`;
  }

  root.addEventListener("keydown", (e) => {
    if (["INPUT", "TEXTAREA", "SELECT"].includes(e.target.tagName)) return;
    const t = model.get("playhead");
    const key = e.key;
    let handled = true;
    if (view.key(e)) { /* play and step */ }
    else if (key === "q" || key === "Q") { mark.start = t; showMark(); }
    else if (key === "r" || key === "R") { mark.end = t; showMark(); }
    else if (key === "Enter") add();
    else if (key === "e" || key === "E") apply();
    else if ((e.ctrlKey || e.metaKey) && (key === "z" || key === "Z")) request(model, "undo");
    else if (/^[1-9]$/.test(key) && model.get("skills")[Number(key) - 1]) skill.value = model.get("skills")[Number(key) - 1];
    else if (key === "Delete" || key === "Backspace") {
      const found = model.get("segments").find((s) => s.id === selected);
      if (found) request(model, "delete", { annotation: found.id, version: found.version });
    } else handled = false;
    if (handled) e.preventDefault();
  });

  function segmentList() {
    const rows = model.get("segments").map((s) => h("tr", {
      testid: `row-${s.id}`, class: s.id === selected ? "ak-selected-row" : "",
      onclick: () => { if (s.start_ns !== null) view.seek(s.start_ns); pick(s.id); } }, [
      h("td", { text: s.kind === "segment" ? `${fmt(s.start_ns)}–${fmt(s.end_ns)} s` : "episode" }),
      h("td", { text: s.skill }), h("td", { text: s.labels.join(", ") }),
      h("td", { text: s.description }),
      h("td", { class: s.valid ? "" : "ak-qc-error", text: s.valid ? s.provenance + (s.template ? " (template)" : "") : `invalid: ${s.reason}` }),
    ]));
    return [
      h("table", { class: "ak-table", testid: "segments" }, [
        h("thead", {}, [h("tr", {}, ["Span", "Skill", "Labels", "Description", "Origin / validity"].map((t) => h("th", { text: t })))]),
        h("tbody", {}, rows)]),
      ...findings(),
      ...view.comments(),
      h("div", { class: "ak-muted", text: "Keys: Space play · ←/→ frame · Shift+←/→ 1 s · Q start · R end · ⏎ add · 1–9 skill · E apply to the selected (with Q / R: its new start / end) · Del delete · Ctrl+Z undo" }),
    ];
  }

  /** Where the episode breaks its project's rules: errors stop a submit, warnings do not. */
  function findings() {
    const items = model.get("findings").map((f) => h("li", {
      testid: "finding", class: f.severity === "error" ? "ak-qc-error" : "ak-qc-warning",
      onclick: () => f.start_ns !== null && view.seek(f.start_ns), text: `${f.severity}: ${f.text}` }));
    return items.length ? [h("h4", { text: "Rule checks" }), h("ul", { class: "ak-list", testid: "findings" }, items)] : [];
  }

  /** The guidelines beside the timeline: HTML rendered safely by the library (raw HTML in
   * the Markdown is escaped there); a link to #episode=ID&at=START-END opens that example. */
  const guide = h("aside", { class: "ak-guidelines", testid: "guidelines" });
  const body = h("div", { class: "ak-annotator-body" });
  const main = h("div", { class: "ak-annotator-main" });
  guide.addEventListener("click", (e) => {
    const link = e.target.closest && e.target.closest("a");
    const href = link ? link.getAttribute("href") || "" : "";
    const found = /^#episode=(\d+)(?:&at=([\d.]+)(?:-([\d.]+))?)?$/.exec(href);
    if (!found) return;
    e.preventDefault();
    const at = Math.round(Number(found[2] || 0) * 1e9);
    if (Number(found[1]) === model.get("dataset")) view.seek(at);
    else request(model, "open", { dataset: Number(found[1]), at_ns: at });
  });
  function guidelines() {
    const shown = model.get("guidelines") || [];
    const want = JSON.stringify(shown.map((g) => [g.scope, g.name, g.version]));
    if (guide.dataset.shown === want) return;
    guide.dataset.shown = want;
    guide.replaceChildren(h("h4", { text: "Guidelines" }), ...shown.map((g) => {
      const text = h("div", { class: "ak-guideline-text" });
      text.innerHTML = g.html;  // safe: rendered by annotation_kit.guidelines.render
      return h("details", { testid: `guideline-${g.scope}-${g.name}`, open: "" }, [
        h("summary", { text: `${g.scope === "project" ? "Project" : "Skill"} ${g.name} · v${g.version}` }),
        text,
        h("div", { class: "ak-muted", text: `cite as ${g.reference}` }),
      ]);
    }));
    guide.hidden = shown.length === 0;
  }

  function draw() {
    if (!model.get("dataset")) {
      root.replaceChildren(...messages(model), h("p", { class: "ak-muted", text: "Open a task's episode to annotate." }));
      return;
    }
    if (!root.contains(header)) {  // after the "open an episode" message
      main.replaceChildren(media, form, invalidBar, list);
      body.replaceChildren(main, guide);
      root.replaceChildren(header, body);
    }
    guidelines();
    setOptions(skill, model.get("skills"), false);
    setOptions(labels, model.get("labels"), true);
    const known = JSON.stringify(model.get("suggestions"));
    if (suggestions.dataset.values !== known) {
      suggestions.dataset.values = known;
      suggestions.replaceChildren(...model.get("suggestions").map((s) => h("option", { value: s })));
    }
    showMark();
    const chosen = model.get("segments").find((x) => x.id === selected);
    applyButton.textContent = chosen ? `Apply to #${chosen.id} (E)` : "Apply to selected (E)";
    applyButton.disabled = !chosen;
    header.replaceChildren(...view.header((d) => `${d.name} (${d.status})`, [
      h("span", { class: "ak-user", text: `as ${model.get("user")}${model.get("can_edit") ? "" : " (read only)"}` })]), ...messages(model));
    media.replaceChildren(...view.media());
    form.hidden = invalidBar.hidden = !model.get("can_edit");
    refill(list, JSON.stringify([selected, ...["segments", "findings", "comments"].map((n) => model.get(n))]), segmentList);
  }

  main.append(media, form, invalidBar, list);
  body.append(main, guide);
  root.append(header, body);
  draw();
  const cleanup = subscribe(model, [], draw);
  return () => { view.cleanup(); cleanup(); };
}

export default { render };
