// ReviewForm front end (JupyterLab and `panel serve`); helpers come from _common.js and the
// episode view from _episode_view.js.
// Keys (when no text field has focus): Space play/pause, ←/→ one frame, Shift+←/→ one second,
// J / K next / previous annotation, Q / R anchor the comment's start / end at the playhead,
// A pass the selected annotation, X reject it (with the comment typed). In the comment box,
// Escape goes back to the keys and Ctrl+Enter rejects with the comment. A comment typed and not
// yet sent stays with its annotation when the selection moves; after a verdict the form moves
// on to the next annotation not judged, in this episode or the next one.

/** @param {{ model: Model, el: HTMLElement }} ctx */
function render({ model, el }) {
  const root = h("div", { class: "ak-widget ak-annotator ak-review", testid: "review-form", tabindex: "0" });
  el.append(root);
  const top = h("div");
  const title = h("div");
  const sampling = h("div");
  const notes = h("div");
  top.append(title, sampling, notes);
  const header = h("div");
  const media = h("div");
  const judgeBox = h("div", { class: "ak-form ak-judge" });
  const list = h("div");
  const disagree = h("div");
  const decide = h("div", { class: "ak-form ak-decide" });
  let selected = 0;
  let anchor = { start: null, end: null, manual: false };
  const view = episodeView(model, {
    selected: () => selected,
    select: (id) => choose(id),
    redraw: () => draw(),
    redrawMedia: () => { if (model.get("dataset")) media.replaceChildren(...view.media(marks())); },
    segmentClass: (s) => {
      const v = model.get("verdicts")[String(s.id)];
      const changed = model.get("changes").some((c) => c.annotation === s.id);
      return (v ? ` ak-seg-${v.decision}` : "") + (changed ? " ak-seg-changed" : "");
    },
  });

  // ----- inputs built once so what is typed survives redraws -----
  const mode = h("select", { testid: "sample-mode" }, [
    h("option", { value: "full", text: "Full review (every dataset)" }),
    h("option", { value: "percent", text: "Sample: % of the datasets" }),
    h("option", { value: "count", text: "Sample: number of datasets" }),
  ]);
  const size = h("input", { type: "number", min: "1", step: "any", value: "50", testid: "sample-size", style: "width:80px" });
  const perAnnotator = h("input", { type: "number", min: "1", step: "1", testid: "per-annotator", style: "width:60px",
    title: "At least this many episodes of each annotator", placeholder: "each" });
  const risky = h("input", { type: "checkbox", testid: "risky" });
  const riskyLabel = h("label", { class: "ak-muted", title: "Add episodes with rule findings, and those of new or often-rejected annotators" }, [risky, " + risky"]);
  const comment = h("textarea", { testid: "verdict-comment", rows: "2",
    placeholder: "Comment (required to reject) · Ctrl+Enter reject · Esc back to the keys" });
  /** comments typed and not sent yet, per annotation: moving the selection keeps them */
  const drafts = new Map();
  comment.addEventListener("input", () => { if (selected) drafts.set(selected, comment.value); });
  comment.addEventListener("keydown", (e) => {
    if (e.key === "Escape") { e.preventDefault(); root.focus(); }
    else if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && model.get("can_review")) {
      e.preventDefault(); judge("reject"); root.focus();
    }
  });
  const taskComment = h("textarea", { testid: "task-comment", rows: "2", placeholder: "Comment on the task (required to fail it)" });
  const anchorInfo = h("span", { testid: "anchor", class: "ak-muted" });

  const segments = () => model.get("segments");
  const current = () => segments().find((s) => s.id === selected);

  function choose(id) {
    selected = id;
    judging = 0;  // a verdict still on its way no longer moves the form: the person did
    const s = current();
    anchor = s && s.start_ns !== null ? { start: s.start_ns, end: s.end_ns, manual: false } : { start: null, end: null, manual: false };
    const v = model.get("verdicts")[String(id)];
    comment.value = drafts.get(id) ?? (v ? v.comment : "");
    if (s && s.start_ns !== null) view.seek(s.start_ns);
    draw();
  }

  function step(delta) {
    const all = segments();
    const i = all.findIndex((s) => s.id === selected);
    const next = all[i + delta];
    if (next) { choose(next.id); return; }
    const episodes = model.get("episodes");
    const e = episodes.findIndex((d) => d.id === model.get("dataset"));
    if (episodes[e + delta]) { selected = 0; request(model, "open", { dataset: episodes[e + delta].id }); }
  }

  function judge(decision) {
    const s = current();
    if (!s) { model.set("_error", "select an annotation first (J / K or click it)"); draw(); return; }
    const range = anchor.start !== null && anchor.end !== null
      ? { start_ns: Math.min(anchor.start, anchor.end), end_ns: Math.max(anchor.start, anchor.end) } : {};
    request(model, "judge", { annotation: s.id, version: s.version, decision, comment: comment.value, ...range });
    drafts.delete(s.id);
    judging = s.id;
  }
  /** the annotation whose verdict was sent last: when it comes back judged, the form moves on */
  let judging = 0;

  /** After a verdict: the next annotation not judged here, else the next episode with one. */
  function moveOn() {
    const verdicts = model.get("verdicts");
    const next = segments().find((s) => !verdicts[String(s.id)]);
    if (next) { choose(next.id); return true; }
    const episodes = model.get("episodes");
    const here = episodes.findIndex((d) => d.id === model.get("dataset"));
    const later = [...episodes.slice(here + 1), ...episodes.slice(0, Math.max(here, 0))]
      .find((d) => d.judged < d.total);
    if (!later) return false;
    selected = 0;
    request(model, "open", { dataset: later.id });
    return true;
  }

  function decideTask(action) {
    const range = anchor.manual && anchor.start !== null && anchor.end !== null
      ? { start_ns: Math.min(anchor.start, anchor.end), end_ns: Math.max(anchor.start, anchor.end) } : {};
    request(model, action, { comment: taskComment.value, version: model.get("task_version"),
                             ...(action === "fail_task" ? range : {}) });
  }

  root.addEventListener("keydown", (e) => {
    if (["INPUT", "TEXTAREA", "SELECT"].includes(e.target.tagName)) return;
    const t = model.get("playhead");
    let handled = true;
    if (view.key(e)) { /* play and step */ }
    else if (e.key === "j" || e.key === "J") step(1);
    else if (e.key === "k" || e.key === "K") step(-1);
    else if (e.key === "q" || e.key === "Q") { anchor = { ...anchor, start: t, manual: true }; draw(); }
    else if (e.key === "r" || e.key === "R") { anchor = { ...anchor, end: t, manual: true }; draw(); }
    else if ((e.key === "a" || e.key === "A") && model.get("can_review")) judge("pass");
    else if ((e.key === "x" || e.key === "X") && model.get("can_review")) judge("reject");
    else handled = false;
    if (handled) e.preventDefault();
  });

  const NAMES = { start_ns: "start", end_ns: "end", skill: "skill", labels: "labels", description: "description", valid: "validity", reason: "invalid reason" };
  const show = (key, v) => {
    if (v === null || v === undefined) return key.endsWith("_ns") ? "episode" : "(none)";
    if (key.endsWith("_ns")) return `${fmt(v)} s`;
    if (key === "labels") return v.join(", ") || "(none)";
    if (key === "valid") return v ? "valid" : "invalid";
    return key === "description" ? `“${v}”` : String(v);
  };
  /** "start 4.000 s → 4.512 s · skill pick → place" */
  const describe = (before, after) => Object.keys(before).map((k) =>
    `${NAMES[k] || k} ${show(k, before[k])}` + (after && k in after ? ` → ${show(k, after[k])}` : "")).join(" · ");

  function changeText(c) {
    if (c.kind === "new") return "new since the last round";
    if (c.kind === "deleted") return `deleted since the last round (was ${describe(c.before)})`;
    const was = describe(c.before, c.after);
    return was ? `changed since the last round: ${was}` : "changed since the last round";
  }

  let proposed = "";  // the project's policy, put in the inputs once per task
  function propose() {
    const p = model.get("policy");
    const key = `${model.get("task")}:${JSON.stringify(p)}`;
    if (proposed === key) return;
    proposed = key;
    mode.value = p.count ? "count" : p.percent ? "percent" : "full";
    size.value = String(p.count || p.percent || 50);
    perAnnotator.value = p.per_annotator ? String(p.per_annotator) : "";
    risky.checked = Boolean(p.risky);
  }

  function sampleBar() {
    propose();
    const s = model.get("sample");
    const chosen = s.mode ? `Reviewing ${s.count} of ${s.total} dataset(s)` +
      (s.mode === "full" ? " (full review)" : ` (random sample: ${s.mode === "percent" ? `${s.size} %` : `${s.size} datasets`}, seed ${s.seed})`)
      : model.get("can_review") ? "No sample chosen yet for this round." : `Nothing to review: the task is ${model.get("status").replace(/_/g, " ")}.`;
    const p = model.get("progress");
    const items = [h("span", { testid: "sample", text: chosen })];
    if (s.mode) items.push(h("span", { class: "ak-muted", testid: "review-progress",
      text: `judged ${p.judged} of ${p.total} annotation(s) · ${p.rejected} rejected` + (p.changed ? ` · ${p.changed} changed since the last round` : "") }));
    if (model.get("can_review")) {
      size.hidden = perAnnotator.hidden = riskyLabel.hidden = mode.value === "full";
      items.push(mode, size, perAnnotator, riskyLabel, h("button", { text: s.mode ? "Draw again" : "Start review", testid: "draw-sample",
        onclick: () => request(model, "sample", { mode: mode.value, size: mode.value === "full" ? null : size.value,
          per_annotator: perAnnotator.value || null, risky: risky.checked }) }));
    }
    return h("div", { class: "ak-toolbar" }, items);
  }
  mode.addEventListener("change", () => {
    size.hidden = perAnnotator.hidden = riskyLabel.hidden = mode.value === "full";
    size.value = mode.value === "percent" ? "50" : "1";
  });

  function annotationTable() {
    const verdicts = model.get("verdicts");
    const changes = new Map(model.get("changes").map((c) => [c.annotation, c]));
    const rows = segments().map((s) => {
      const v = verdicts[String(s.id)];
      const c = changes.get(s.id);
      return h("tr", { testid: `row-${s.id}`, class: s.id === selected ? "ak-selected-row" : "", onclick: () => choose(s.id) }, [
        h("td", { text: s.kind === "segment" ? `${fmt(s.start_ns)}–${fmt(s.end_ns)} s` : "episode" }),
        h("td", { text: s.skill }), h("td", { text: s.labels.join(", ") }), h("td", { text: s.description }),
        h("td", { class: s.valid ? "" : "ak-qc-error", text: s.valid ? "" : `invalid: ${s.reason}` }),
        h("td", { class: "ak-change", testid: `change-${s.id}`, text: c ? changeText(c) : "" }),
        h("td", { testid: `verdict-${s.id}`, class: v ? `ak-verdict-${v.decision}` : "ak-muted",
          text: v ? `${v.decision}${v.stale ? " (edited since)" : ""}${v.comment ? `: ${v.comment}` : ""}` : "not judged" }),
      ]);
    });
    const removed = model.get("changes").filter((c) => c.kind === "deleted").map((c) =>
      h("li", { testid: "removed", text: `#${c.annotation}: ${changeText(c)}` }));
    return [
      h("table", { class: "ak-table", testid: "segments" }, [
        h("thead", {}, [h("tr", {}, ["Span", "Skill", "Labels", "Description", "", "Since last round", "Verdict"].map((t) => h("th", { text: t })))]),
        h("tbody", {}, rows)]),
      ...(removed.length ? [h("h4", { text: "Removed since the last round" }), h("ul", { class: "ak-list" }, removed)] : []),
      ...findings(),
      ...view.comments(),
      h("div", { class: "ak-muted", text: "Keys: J / K next / previous annotation · A pass · X reject · Q / R anchor start / end · Space play · ←/→ frame · Shift+←/→ 1 s · in the comment: Ctrl+Enter reject, Esc back" }),
    ];
  }

  /** Where the open episode breaks its project's rules (what the annotator saw too). */
  function findings() {
    const items = model.get("findings").map((f) => h("li", {
      testid: "finding", class: f.severity === "error" ? "ak-qc-error" : "ak-qc-warning",
      onclick: () => f.start_ns !== null && view.seek(f.start_ns), text: `${f.severity}: ${f.text}` }));
    return items.length ? [h("h4", { text: "Rule checks" }), h("ul", { class: "ak-list", testid: "findings" }, items)] : [];
  }

  function judgePanel() {
    const s = current();
    if (!s) return [h("span", { class: "ak-muted", text: "Select an annotation (J / K, or click it) to judge it." })];
    const c = model.get("changes").find((x) => x.annotation === s.id);
    const can = model.get("can_review");
    return [
      h("div", { testid: "judging", text: `Annotation #${s.id} · ${s.kind === "segment" ? `${fmt(s.start_ns)}–${fmt(s.end_ns)} s` : "whole episode"} · ${s.skill || "(no skill)"}` +
        (s.description ? ` · “${s.description}”` : "") }),
      ...(c ? [h("div", { class: "ak-warning", testid: "judging-change", text: changeText(c) })] : []),
      ...(can ? [comment, h("div", { class: "ak-toolbar" }, [anchorInfo, ...citeGuideline(comment),
        h("button", { class: "ak-pass", text: "Pass (A)", testid: "pass-annotation", onclick: () => judge("pass") }),
        h("button", { class: "ak-danger", text: "Reject (X)", testid: "reject-annotation", onclick: () => judge("reject") }),
        h("button", { text: "Next (J)", testid: "next-annotation", onclick: () => step(1) })])] : []),
    ];
  }

  /** A guideline the comment cites: its reference ([guideline NAME vN]) goes into the text. */
  function citeGuideline(field) {
    const shown = model.get("guidelines") || [];
    if (!shown.length) return [];
    const node = h("select", { testid: "cite-guideline", "aria-label": "Cite a guideline",
      onchange: (e) => {
        const value = e.target.value;  // read now: a shadow DOM event has no target later
        if (value) field.value = `${field.value}${field.value && !field.value.endsWith(" ") ? " " : ""}${value}`;
        e.target.value = "";
        field.focus();
      } },
      [h("option", { value: "", text: "Cite a guideline…" }),
        ...shown.map((g) => h("option", { value: g.reference, text: `${g.scope} ${g.name} v${g.version}` }))]);
    return [node];
  }

  function decisionPanel() {
    if (!model.get("can_review")) return [h("span", { class: "ak-muted", text: `Task is ${model.get("status").replace(/_/g, " ")}: nothing to decide for ${model.get("user")} now.` })];
    return [h("strong", { text: "Decide the task" }), taskComment, h("div", { class: "ak-toolbar" }, [
      h("button", { class: "ak-on", text: "Pass task", testid: "pass-task", onclick: () => decideTask("pass_task") }),
      h("button", { class: "ak-danger", text: "Fail task (back to the annotators)", testid: "fail-task", onclick: () => decideTask("fail_task") }),
    ])];
  }

  /** On an independently annotated episode: one lane per annotator and the consensus, drawn
   * on the episode's clock; click segments to pick them, or take one annotator's lane whole. */
  const picked = new Set();
  function disagreement() {
    const d = model.get("disagreement");
    if (!d.lanes) return [];
    const duration = Math.max(1, model.get("duration_ns"));
    const can = d.can_pick;
    const pct = (ns) => `${(100 * ns / duration).toFixed(3)}%`;
    const bar = (segs, pickable) => h("div", { class: "ak-lane-bar" }, segs.map((s) => h("div", {
      class: "ak-lane-seg" + (picked.has(s.id) ? " ak-picked" : ""), testid: pickable ? `lane-seg-${s.id}` : "consensus-seg",
      title: `${fmt(s.start_ns)}–${fmt(s.end_ns)} s ${s.skill || "(no skill)"}${s.author ? ` · ${s.author}` : ""}`,
      style: `left:${pct(s.start_ns)};width:${pct(Math.max(s.end_ns - s.start_ns, duration / 500))}`,
      text: s.skill, onclick: pickable && can ? () => { picked.has(s.id) ? picked.delete(s.id) : picked.add(s.id); draw(); } : null })));
    const lanes = d.lanes.map((lane) => h("div", { class: "ak-lane", testid: "lane" }, [
      h("span", { class: "ak-lane-name", text: lane.author }), bar(lane.segments, true),
      ...(can ? [h("button", { text: `Use ${lane.author}'s`, testid: `adopt-${lane.author}`, disabled: !lane.segments.length,
        onclick: () => { picked.clear(); request(model, "consensus", { author: lane.author }); } })] : []),
    ]));
    const consensusLane = h("div", { class: "ak-lane ak-lane-consensus", testid: "consensus-lane" }, [
      h("span", { class: "ak-lane-name", text: "consensus" }),
      d.consensus.length ? bar(d.consensus, false) : h("span", { class: "ak-muted", testid: "no-consensus", text: "not picked yet: exports leave this episode out until it is" }),
      ...(can ? [h("button", { text: `Use picked (${picked.size})`, testid: "adopt-picked", disabled: !picked.size,
        onclick: () => { request(model, "consensus", { annotations: [...picked] }); picked.clear(); } })] : []),
    ]);
    const num = (v, digits = 2) => v === null || v === undefined ? "—" : v.toFixed(digits);
    const pairs = d.pairs.map((p) => h("li", { testid: "pair", text:
      `${p.a} × ${p.b}: ${p.matched} matched, ${p.unmatched} unmatched · mean tIoU ${num(p.mean_tiou)} · boundary F1 ` +
      Object.entries(p.boundary_f1).sort((x, y) => parseFloat(x[0]) - parseFloat(y[0])).map(([t, v]) => `${num(v)} @${t} s`).join(", ") + ` · skill α ${num(p.skill_alpha)}` }));
    return [h("h4", { text: "Disagreement (annotated independently)" }), h("div", { class: "ak-lanes", testid: "disagreement" }, [...lanes, consensusLane]),
      h("ul", { class: "ak-list", testid: "pairs" }, pairs)];
  }

  const marks = () => anchor.start !== null ? [{ start_ns: Math.min(anchor.start, anchor.end ?? anchor.start),
    end_ns: Math.max(anchor.start, anchor.end ?? anchor.start), draft: true }] : [];

  /** What a part of the form shows: it is built again only when this changes (refill). */
  const shows = (names, ...more) => JSON.stringify([...names.map((n) => model.get(n)), ...more]);

  function draw() {
    refill(title, shows(["task_name", "status", "round", "user"]), () => [h("div", { class: "ak-toolbar" }, [
      h("strong", { class: "ak-title", text: `Review · ${model.get("task_name") || "—"}` }),
      h("span", { class: `ak-status ak-status-${model.get("status")}`, testid: "status", text: model.get("status").replace(/_/g, " ") }),
      h("span", { class: "ak-muted", testid: "round", text: `round ${model.get("round")}` }),
      h("span", { class: "ak-user", text: `as ${model.get("user")}` }),
    ])]);
    refill(sampling, shows(["task", "policy", "sample", "progress", "can_review", "status"]), () => [sampleBar()]);
    notes.replaceChildren(...messages(model));
    const deciding = shows(["can_review", "status", "user"]);
    if (!model.get("dataset")) {
      header.replaceChildren(); media.replaceChildren(); disagree.replaceChildren();
      refill(list, "", () => []);
      judgeBox.hidden = true;
      FILLED.delete(judgeBox);
      refill(decide, `${deciding}|${Boolean(model.get("sample").mode)}`, () => model.get("sample").mode ? decisionPanel() : []);
      return;
    }
    const all = segments();
    if (judging && judging === selected && model.get("verdicts")[String(selected)]) {
      judging = 0;  // judged: on to the next annotation not judged (here or in the next episode)
      if (moveOn()) return;
    }
    if (!all.some((s) => s.id === selected)) {
      const first = all.find((s) => !model.get("verdicts")[String(s.id)]) || all[0];
      if (first) { choose(first.id); return; }
      selected = 0;
    }
    header.replaceChildren(...view.header((d) => `${d.name} (${d.judged}/${d.total} judged)`));
    media.replaceChildren(...view.media(marks()));
    disagree.replaceChildren(...disagreement());
    judgeBox.hidden = false;
    const s = current();
    anchorInfo.textContent = anchor.start === null ? "comment anchor: whole episode (Q / R to anchor it)"
      : `comment anchor: ${fmt(Math.min(anchor.start, anchor.end ?? anchor.start))}–${fmt(Math.max(anchor.start, anchor.end ?? anchor.start))} s`;
    refill(judgeBox, shows(["can_review", "guidelines", "changes"], s ?? null), judgePanel);
    refill(list, shows(["segments", "verdicts", "changes", "findings", "comments"], selected), annotationTable);
    refill(decide, `${deciding}|true`, decisionPanel);
  }

  root.append(top, header, media, disagree, judgeBox, list, decide);
  draw();
  const cleanup = subscribe(model, [], draw);
  return () => { view.cleanup(); cleanup(); };
}

export default { render };
