// EpisodeAnnotator front end (JupyterLab and `panel serve`); helpers come from _common.js.
// Keys (when no text field has focus): Space play/pause, ←/→ one frame, Shift+←/→ one second,
// Q mark start, R mark end, Enter add the segment, 1–9 pick the n-th skill, Del delete the
// selected segment, Ctrl+Z undo. Python holds the undo history and checks every change.

const COLORS = ["#0969da", "#1a7f37", "#9a6700", "#8250df", "#cf222e", "#1b7c83", "#bc4c00", "#6e7781"];
const SECOND = 1e9;
const GENERIC = new Set(["camera", "cameras", "image", "images", "compressed", "raw", "image_raw", "color", "rgb", "observation", "observations"]);
/** A short label for a stream: "/camera/front/image/compressed" -> "front". */
const short = (name) => name.split(/[/.]/).filter((p) => p && !GENERIC.has(p)).slice(-2).join("/") || name;

/** @param {{ model: Model, el: HTMLElement }} ctx */
function render({ model, el }) {
  const root = h("div", { class: "ak-widget ak-annotator", testid: "episode-annotator", tabindex: "0" });
  el.append(root);
  const header = h("div");
  const media = h("div");
  const list = h("div");
  let mark = { start: null, end: null };
  let selected = 0;
  let playing = 0;
  let drag = null;

  // ----- the form: built once so typing survives redraws -----
  const skill = h("select", { testid: "skill" });
  const labels = h("select", { testid: "labels", multiple: "", size: "3" });
  const description = h("input", { testid: "description", placeholder: "Language description", list: "" });
  const suggestions = h("datalist", { id: `ak-suggest-${Math.random().toString(36).slice(2)}` });
  description.setAttribute("list", suggestions.id);
  const markInfo = h("span", { testid: "mark", class: "ak-muted" });
  const reason = h("input", { testid: "invalid-reason", placeholder: "Reason (to mark invalid)" });
  const form = h("div", { class: "ak-toolbar ak-segment-form" }, [
    markInfo, skill, labels, description, suggestions,
    h("button", { class: "ak-on", text: "Add segment ⏎", testid: "add", onclick: () => add() }),
  ]);
  const invalidBar = h("div", { class: "ak-toolbar" }, [reason,
    h("button", { text: "Mark selected segment invalid", testid: "invalid-segment", onclick: () => invalid(true) }),
    h("button", { text: "Mark episode invalid", testid: "invalid-episode", onclick: () => invalid(false) }),
    h("button", { text: "Copy segments to the other episodes (template)", testid: "template",
      onclick: () => request(model, "template") }),
    h("button", { text: "Undo (Ctrl+Z)", testid: "undo", onclick: () => request(model, "undo") }),
  ]);

  const fmt = (ns) => (ns / SECOND).toFixed(3);
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

  function seek(ns) {
    const duration = model.get("duration_ns");
    const t = Math.round(Math.min(Math.max(0, ns), duration));
    const [v0, v1] = model.get("view");
    const values = { playhead: t };
    if (t < v0 || t > v1) {  // keep the playhead in the visible window
      const width = v1 - v0;
      const start = Math.min(Math.max(0, t - width / 2), Math.max(0, duration - width));
      values.view = [Math.round(start), Math.round(start + width)];
    }
    update(model, values);
  }

  function zoom(width) {
    const duration = model.get("duration_ns");
    width = Math.min(width, duration);
    const t = model.get("playhead");
    const start = Math.min(Math.max(0, t - width / 2), duration - width);
    update(model, { view: [Math.round(start), Math.round(start + width)] });
  }

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

  function play() {
    if (playing) { clearInterval(playing); playing = 0; draw(); return; }
    const step = 100_000_000;
    playing = setInterval(() => {
      const t = model.get("playhead") + step;
      if (t >= model.get("duration_ns")) { clearInterval(playing); playing = 0; }
      seek(t);
    }, 100);
    draw();
  }

  root.addEventListener("keydown", (e) => {
    if (["INPUT", "TEXTAREA", "SELECT"].includes(e.target.tagName)) return;
    const t = model.get("playhead");
    const key = e.key;
    let handled = true;
    if (key === " ") play();
    else if (key === "ArrowRight") seek(t + (e.shiftKey ? SECOND : model.get("frame_ns")));
    else if (key === "ArrowLeft") seek(t - (e.shiftKey ? SECOND : model.get("frame_ns")));
    else if (key === "q" || key === "Q") { mark.start = t; showMark(); }
    else if (key === "r" || key === "R") { mark.end = t; showMark(); }
    else if (key === "Enter") add();
    else if ((e.ctrlKey || e.metaKey) && (key === "z" || key === "Z")) request(model, "undo");
    else if (/^[1-9]$/.test(key) && model.get("skills")[Number(key) - 1]) skill.value = model.get("skills")[Number(key) - 1];
    else if (key === "Delete" || key === "Backspace") {
      const found = model.get("segments").find((s) => s.id === selected);
      if (found) request(model, "delete", { annotation: found.id, version: found.version });
    } else handled = false;
    if (handled) e.preventDefault();
  });

  // ----- drawing -----
  function toggles(all, shown, name) {
    return all.map((s) => {
      const box = h("input", { type: "checkbox", testid: `show-${name}-${s}`, onchange: () => {
        const now = new Set(model.get(name));
        now.has(s) ? now.delete(s) : now.add(s);
        update(model, { [name]: all.filter((x) => now.has(x)) });
      } });
      box.checked = shown.includes(s);
      return h("label", { class: "ak-toggle", title: s }, [box, short(s)]);
    });
  }

  function plot(win, v0, v1) {
    const canvas = h("canvas", { class: "ak-plot", width: "900", height: "90", testid: `plot-${win.name}` });
    const ctx = canvas.getContext("2d");
    const x = (t) => ((t - v0) / (v1 - v0)) * canvas.width;
    let lo = Infinity, hi = -Infinity;
    for (const series of [...win.low, ...win.high]) for (const v of series) { if (v < lo) lo = v; if (v > hi) hi = v; }
    if (!(hi > lo)) { hi = lo + 1; }
    const y = (v) => canvas.height - 4 - ((v - lo) / (hi - lo)) * (canvas.height - 8);
    for (const s of model.get("segments")) {
      if (s.kind !== "segment") continue;
      ctx.fillStyle = s.valid ? "rgba(9,105,218,0.08)" : "rgba(207,34,46,0.10)";
      ctx.fillRect(x(s.start_ns), 0, x(s.end_ns) - x(s.start_ns), canvas.height);
    }
    win.low.forEach((low, i) => {
      const high = win.high[i];
      ctx.strokeStyle = COLORS[i % COLORS.length];
      ctx.beginPath();
      win.t.forEach((t, j) => { const px = x(t); ctx.moveTo(px, y(low[j])); ctx.lineTo(px, y(high[j]) - 0.5); });
      win.t.forEach((t, j) => { const px = x(t); j ? ctx.lineTo(px, y((low[j] + high[j]) / 2)) : ctx.moveTo(px, y((low[j] + high[j]) / 2)); });
      ctx.stroke();
    });
    ctx.strokeStyle = "#cf222e";
    const p = x(model.get("playhead"));
    ctx.beginPath(); ctx.moveTo(p, 0); ctx.lineTo(p, canvas.height); ctx.stroke();
    canvas.addEventListener("click", (e) => {
      const rect = canvas.getBoundingClientRect();
      seek(v0 + ((e.clientX - rect.left) / rect.width) * (v1 - v0));
    });
    return h("div", { class: "ak-plot-row" }, [h("div", { class: "ak-muted", text:
      `${win.name} · ${win.fields.length} fields · ${win.samples} samples in view` }), canvas]);
  }

  function timeline(v0, v1) {
    const skills = model.get("skills");
    const bar = h("div", { class: "ak-timeline", testid: "timeline" });
    const pct = (t) => `${(((t - v0) / (v1 - v0)) * 100).toFixed(3)}%`;
    const timeAt = (clientX) => {
      const rect = bar.getBoundingClientRect();
      return v0 + ((clientX - rect.left) / rect.width) * (v1 - v0);
    };
    bar.addEventListener("mousedown", (e) => {
      if (e.target === bar) seek(timeAt(e.clientX));
    });
    for (const s of model.get("segments")) {
      if (s.kind !== "segment" || s.end_ns < v0 || s.start_ns > v1) continue;
      const color = COLORS[Math.max(0, skills.indexOf(s.skill)) % COLORS.length];
      const block = h("div", {
        class: `ak-seg${s.id === selected ? " ak-seg-selected" : ""}${s.valid ? "" : " ak-seg-invalid"}`,
        testid: `segment-${s.id}`, title: `${s.skill || "(no skill)"} ${fmt(s.start_ns)}–${fmt(s.end_ns)} s ${s.description}`,
        style: `left:${pct(Math.max(s.start_ns, v0))};width:calc(${pct(Math.min(s.end_ns, v1))} - ${pct(Math.max(s.start_ns, v0))});background:${color}`,
        onmousedown: (e) => { if (e.target === block) { selected = s.id; draw(); } },
      }, [h("span", { class: "ak-seg-label", text: s.skill || "·" })]);
      for (const edge of ["start", "end"]) {
        const handle = h("div", { class: `ak-edge ak-edge-${edge}`, testid: `edge-${edge}-${s.id}` });
        handle.addEventListener("mousedown", (e) => {
          e.preventDefault(); e.stopPropagation();
          drag = { segment: s, edge, block };
          selected = s.id;
        });
        block.append(handle);
      }
      bar.append(block);
    }
    for (const c of model.get("comments")) {
      if (c.start_ns === null) continue;
      bar.append(h("div", { class: "ak-comment-mark", testid: "comment-mark", title: c.comment,
        style: `left:${pct(c.start_ns)};width:calc(${pct(c.end_ns)} - ${pct(c.start_ns)})` }));
    }
    bar.append(h("div", { class: "ak-playhead", style: `left:${pct(model.get("playhead"))}` }));
    return bar;
  }

  const onMove = (e) => {
    if (!drag) return;
    const bar = drag.block.parentElement;
    const rect = bar.getBoundingClientRect();
    const [v0, v1] = model.get("view");
    const t = v0 + ((e.clientX - rect.left) / rect.width) * (v1 - v0);
    drag.t = Math.round(Math.min(Math.max(0, t), model.get("duration_ns")));
    const s = drag.segment;
    const start = drag.edge === "start" ? Math.min(drag.t, s.end_ns) : s.start_ns;
    const end = drag.edge === "end" ? Math.max(drag.t, s.start_ns) : s.end_ns;
    const pct = (x) => ((x - v0) / (v1 - v0)) * 100;
    drag.block.style.left = `${pct(start)}%`;
    drag.block.style.width = `${pct(end) - pct(start)}%`;
  };
  const onUp = () => {
    if (!drag) return;
    const { segment: s, edge, t } = drag;
    drag = null;
    if (t === undefined) { draw(); return; }
    const changes = edge === "start" ? { start_ns: Math.min(t, s.end_ns) } : { end_ns: Math.max(t, s.start_ns) };
    request(model, "update", { annotation: s.id, version: s.version, changes });
  };
  window.addEventListener("mousemove", onMove);
  window.addEventListener("mouseup", onUp);

  function overview() {
    const duration = model.get("duration_ns") || 1;
    const [v0, v1] = model.get("view");
    const strip = h("div", { class: "ak-overview", testid: "overview", onclick: (e) => {
      const rect = strip.getBoundingClientRect();
      seek(((e.clientX - rect.left) / rect.width) * duration);
    } }, [h("div", { class: "ak-overview-view", style: `left:${(v0 / duration) * 100}%;width:${((v1 - v0) / duration) * 100}%` })]);
    for (const s of model.get("segments")) {
      if (s.kind === "segment") strip.append(h("div", { class: "ak-overview-seg",
        style: `left:${(s.start_ns / duration) * 100}%;width:${Math.max(0.2, ((s.end_ns - s.start_ns) / duration) * 100)}%` }));
    }
    return strip;
  }

  function segmentList() {
    const rows = model.get("segments").map((s) => h("tr", {
      testid: `row-${s.id}`, class: s.id === selected ? "ak-selected-row" : "",
      onclick: () => { selected = s.id; if (s.start_ns !== null) seek(s.start_ns); draw(); } }, [
      h("td", { text: s.kind === "segment" ? `${fmt(s.start_ns)}–${fmt(s.end_ns)} s` : "episode" }),
      h("td", { text: s.skill }), h("td", { text: s.labels.join(", ") }),
      h("td", { text: s.description }),
      h("td", { class: s.valid ? "" : "ak-qc-error", text: s.valid ? s.provenance + (s.template ? " (template)" : "") : `invalid: ${s.reason}` }),
    ]));
    const comments = model.get("comments").map((c) => h("li", { testid: "comment",
      onclick: () => c.start_ns !== null && seek(c.start_ns),
      text: `Round ${c.round} · ${c.decision}` + (c.start_ns !== null ? ` @ ${fmt(c.start_ns)}–${fmt(c.end_ns)} s` : "") +
        (c.comment ? `: ${c.comment}` : "") }));
    return [
      h("table", { class: "ak-table", testid: "segments" }, [
        h("thead", {}, [h("tr", {}, ["Span", "Skill", "Labels", "Description", ""].map((t) => h("th", { text: t })))]),
        h("tbody", {}, rows)]),
      ...(comments.length ? [h("h4", { text: "Review comments" }), h("ul", { class: "ak-list", testid: "comments" }, comments)] : []),
      h("div", { class: "ak-muted", text: "Keys: Space play · ←/→ frame · Shift+←/→ 1 s · Q start · R end · ⏎ add · 1–9 skill · Del delete · Ctrl+Z undo" }),
    ];
  }

  function draw() {
    if (!model.get("dataset")) {
      root.replaceChildren(...messages(model), h("p", { class: "ak-muted", text: "Open a task's episode to annotate." }));
      return;
    }
    setOptions(skill, model.get("skills"), false);
    setOptions(labels, model.get("labels"), true);
    const known = JSON.stringify(model.get("suggestions"));
    if (suggestions.dataset.values !== known) {
      suggestions.dataset.values = known;
      suggestions.replaceChildren(...model.get("suggestions").map((s) => h("option", { value: s })));
    }
    showMark();
    const episodes = model.get("episodes");
    const picker = h("select", { testid: "episode", onchange: (e) => request(model, "open", { dataset: Number(e.target.value) }) },
      episodes.map((d) => h("option", { value: String(d.id), text: `${d.name} (${d.status})` })));
    picker.value = String(model.get("dataset"));
    const index = episodes.findIndex((d) => d.id === model.get("dataset"));
    const go = (i) => episodes[i] && request(model, "open", { dataset: episodes[i].id });
    header.replaceChildren(h("div", { class: "ak-toolbar" }, [
      h("button", { text: "‹", title: "Previous episode", testid: "prev-episode", onclick: () => go(index - 1) }), picker,
      h("button", { text: "›", title: "Next episode", testid: "next-episode", onclick: () => go(index + 1) }),
      h("span", { class: "ak-muted", text: `${index + 1} of ${episodes.length}` }),
      h("span", { class: "ak-user", text: `as ${model.get("user")}${model.get("can_edit") ? "" : " (read only)"}` }),
    ]), h("div", { class: "ak-toolbar" }, [...toggles(model.get("cameras"), model.get("shown_cameras"), "shown_cameras"),
      ...toggles(model.get("signals"), model.get("shown_signals"), "shown_signals")]), ...messages(model));
    const frames = model.get("frames");
    const [v0, v1] = model.get("view").length ? model.get("view") : [0, model.get("duration_ns")];
    media.replaceChildren(
      h("div", { class: "ak-cameras" }, model.get("shown_cameras").map((c) => h("figure", { class: "ak-camera" }, [
        frames[c]?.src ? h("img", { src: frames[c].src, testid: `frame-${c}`, alt: c }) : h("div", { class: "ak-muted", text: frames[c]?.error || "…" }),
        h("figcaption", { class: "ak-muted", text: short(c) }),
      ]))),
      ...model.get("windows").map((w) => plot(w, v0, v1)),
      timeline(v0, v1),
      overview(),
      h("div", { class: "ak-toolbar" }, [
        h("button", { text: playing ? "❚❚" : "▶", testid: "play", onclick: play }),
        h("span", { testid: "time", text: `${fmt(model.get("playhead"))} / ${fmt(model.get("duration_ns"))} s` }),
        ...[["10 s", 10], ["60 s", 60], ["5 min", 300], ["All", Infinity]].map(([label, s]) =>
          h("button", { text: label, testid: `zoom-${label}`, onclick: () => zoom(s === Infinity ? model.get("duration_ns") : s * SECOND) })),
      ]),
    );
    if (model.get("can_edit")) { form.hidden = false; invalidBar.hidden = false; } else { form.hidden = true; invalidBar.hidden = true; }
    list.replaceChildren(...segmentList());
  }

  root.append(header, media, form, invalidBar, list);
  draw();
  const cleanup = subscribe(model, [], draw);
  return () => {
    clearInterval(playing);
    window.removeEventListener("mousemove", onMove);
    window.removeEventListener("mouseup", onUp);
    cleanup();
  };
}

export default { render };
