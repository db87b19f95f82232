// The episode view shared by EpisodeAnnotator and ReviewForm: camera frames, signal envelopes,
// the timeline of segments with review comments, the overview strip and the transport. The
// widget's own file builds on it (`_base.py` concatenates _common.js, this file, the widget).

const COLORS = ["#0969da", "#1a7f37", "#9a6700", "#8250df", "#cf222e", "#1b7c83", "#bc4c00", "#6e7781"];
const SECOND = 1e9;
const GENERIC = new Set(["camera", "cameras", "image", "images", "compressed", "raw", "image_raw", "color", "rgb", "observation", "observations"]);
/** A short label for a stream: "/camera/front/image/compressed" -> "front". */
const short = (name) => name.split(/[/.]/).filter((p) => p && !GENERIC.has(p)).slice(-2).join("/") || name;
const fmt = (ns) => (ns / SECOND).toFixed(3);

/**
 * @param {Model} model
 * @param {{ selected: () => number, select: (id: number) => void, redraw: () => void,
 *           segmentClass?: (s: any) => string, edges?: boolean,
 *           onEdge?: (s: any, changes: Record<string, number>) => void }} opts
 */
function episodeView(model, opts) {
  let playing = 0;
  let drag = null;
  // Frames sent ahead by Python (see `_prefetch`): a step whose frames are here is drawn at
  // once, without waiting for the round trip; Python's answer then confirms it.
  const cached = { at: new Map(), src: new Map() };
  const CACHE = 1500;
  const absorb = () => {
    const p = model.get("prefetch");
    if (!p || !p.at) return;
    for (const [id, image] of Object.entries(p.src)) {
      const url = cached.src.get(id);
      cached.src.delete(id);
      cached.src.set(id, url || imageUrl(image));
    }
    for (const [camera, times] of Object.entries(p.at))
      for (const [t, id] of Object.entries(times)) cached.at.set(`${p.dataset}|${camera}|${t}`, id);
    while (cached.src.size > CACHE) {
      const [id, url] = cached.src.entries().next().value;
      cached.src.delete(id);
      URL.revokeObjectURL(url);
    }
    while (cached.at.size > CACHE) cached.at.delete(cached.at.keys().next().value);
  };
  // A frame's bytes arrive as a binary buffer (ArrayBuffer from Bokeh, DataView from Jupyter):
  // shown through a blob: address, made once per frame and freed when the frame is dropped.
  const shownUrls = new Map();  // the frames Python sent for the playhead, by their bytes
  function imageUrl(image) {
    const data = image.data;
    const bytes = ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : data;
    return URL.createObjectURL(new Blob([bytes], { type: image.mime }));
  }
  function shownUrl(frame) {
    if (!frame?.data) return "";
    let url = shownUrls.get(frame.data);
    if (!url) {
      url = imageUrl(frame);
      shownUrls.set(frame.data, url);
      while (shownUrls.size > 32) {  // a few screens' worth: older ones are no longer shown
        const [key, old] = shownUrls.entries().next().value;
        shownUrls.delete(key);
        URL.revokeObjectURL(old);
      }
    }
    return url;
  }
  model.on("change:prefetch", absorb);
  /** The frame of ``camera`` at the playhead: sent ahead, else the last one Python sent. */
  /** The figure shown per camera, kept while its frame is the same. */
  const figures = new Map();

  function frameFor(camera) {
    const t = model.get("playhead");
    const id = cached.at.get(`${model.get("dataset")}|${camera}|${t}`);
    if (id && cached.src.has(id)) return { src: cached.src.get(id), at: t };
    const sent = model.get("frames")[camera];
    return sent && { src: shownUrl(sent), at: sent.at, error: sent.error };
  }

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
    (opts.redrawMedia || opts.redraw)();  // the new time now; frames too if they were sent ahead
  }

  function zoom(width) {
    const duration = model.get("duration_ns");
    width = Math.min(width, duration);
    const t = model.get("playhead");
    const start = Math.min(Math.max(0, t - width / 2), duration - width);
    update(model, { view: [Math.round(start), Math.round(start + width)] });
  }

  function play() {
    if (playing) { clearInterval(playing); playing = 0; opts.redraw(); return; }
    const step = 100_000_000;
    playing = setInterval(() => {
      const t = model.get("playhead") + step;
      if (t >= model.get("duration_ns")) { clearInterval(playing); playing = 0; }
      seek(t);
    }, 100);
    opts.redraw();
  }

  /** Space, ←/→, Shift+←/→; returns whether the key was one of them. @param {KeyboardEvent} e */
  function key(e) {
    const t = model.get("playhead");
    if (e.key === " ") play();
    else if (e.key === "ArrowRight") seek(t + (e.shiftKey ? SECOND : model.get("frame_ns")));
    else if (e.key === "ArrowLeft") seek(t - (e.shiftKey ? SECOND : model.get("frame_ns")));
    else return false;
    return true;
  }

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

  /** Episode picker and stream toggles. @param {(d: any) => string} label */
  function header(label, extra = []) {
    const episodes = model.get("episodes");
    const picker = h("select", { testid: "episode", onchange: (e) => request(model, "open", { dataset: Number(e.target.value) }) },
      episodes.map((d) => h("option", { value: String(d.id), text: label(d) })));
    picker.value = String(model.get("dataset"));
    const index = episodes.findIndex((d) => d.id === model.get("dataset"));
    const go = (i) => episodes[i] && request(model, "open", { dataset: episodes[i].id });
    return [h("div", { class: "ak-toolbar" }, [
      h("button", { text: "‹", title: "Previous episode", testid: "prev-episode", onclick: () => go(index - 1) }), picker,
      h("button", { text: "›", title: "Next episode", testid: "next-episode", onclick: () => go(index + 1) }),
      h("span", { class: "ak-muted", text: `${index + 1} of ${episodes.length}` }), ...extra,
    ]), h("div", { class: "ak-toolbar" }, [...toggles(model.get("cameras"), model.get("shown_cameras"), "shown_cameras"),
      ...toggles(model.get("signals"), model.get("shown_signals"), "shown_signals")])];
  }

  const hiddenFields = new Map();  // signal name -> indices of the fields not drawn
  function plot(win, v0, v1) {
    const canvas = h("canvas", { class: "ak-plot", width: "900", height: "90", testid: `plot-${win.name}` });
    const ctx = canvas.getContext("2d");
    const x = (t) => ((t - v0) / (v1 - v0)) * canvas.width;
    const hidden = hiddenFields.get(win.name) || new Set();
    const drawn = (i) => !hidden.has(i);
    let lo = Infinity, hi = -Infinity;
    win.low.forEach((low, i) => {
      if (!drawn(i)) return;
      for (const v of [...low, ...win.high[i]]) { if (v < lo) lo = v; if (v > hi) hi = v; }
    });
    if (!Number.isFinite(lo)) { lo = 0; hi = 1; }
    if (!(hi > lo)) { hi = lo + 1; }
    const y = (v) => canvas.height - 4 - ((v - lo) / (hi - lo)) * (canvas.height - 8);
    for (const s of model.get("segments")) {
      if (s.kind !== "segment") continue;
      ctx.fillStyle = s.valid ? "rgba(9,105,218,0.08)" : "rgba(207,34,46,0.10)";
      ctx.fillRect(x(s.start_ns), 0, x(s.end_ns) - x(s.start_ns), canvas.height);
    }
    win.low.forEach((low, i) => {
      if (!drawn(i)) return;
      const high = win.high[i];
      ctx.strokeStyle = COLORS[i % COLORS.length];
      ctx.beginPath();
      win.t.forEach((t, j) => { const px = x(t); ctx.moveTo(px, y(low[j])); ctx.lineTo(px, y(high[j]) - 0.5); });
      win.t.forEach((t, j) => { const px = x(t); j ? ctx.lineTo(px, y((low[j] + high[j]) / 2)) : ctx.moveTo(px, y((low[j] + high[j]) / 2)); });
      ctx.stroke();
    });
    ctx.fillStyle = "#656d76";  // the y axis: the range drawn
    ctx.font = "10px system-ui, sans-serif";
    ctx.fillText(Number(hi.toPrecision(4)).toString(), 2, 10);
    ctx.fillText(Number(lo.toPrecision(4)).toString(), 2, canvas.height - 2);
    ctx.strokeStyle = "#cf222e";
    const p = x(model.get("playhead"));
    ctx.beginPath(); ctx.moveTo(p, 0); ctx.lineTo(p, canvas.height); ctx.stroke();
    canvas.addEventListener("click", (e) => {
      const rect = canvas.getBoundingClientRect();
      seek(v0 + ((e.clientX - rect.left) / rect.width) * (v1 - v0));
    });
    // a legend that is also the field picker: click a field to hide or show it
    const legend = win.fields.map((field, i) => h("button", {
      class: `ak-legend${drawn(i) ? "" : " ak-legend-off"}`, testid: `field-${win.name}-${i}`,
      title: drawn(i) ? "hide this field" : "show this field",
      style: `border-color:${COLORS[i % COLORS.length]};color:${drawn(i) ? COLORS[i % COLORS.length] : "#8c959f"}`,
      text: field, onclick: () => {
        const now = new Set(hidden);
        now.has(i) ? now.delete(i) : now.add(i);
        hiddenFields.set(win.name, now);
        opts.redrawMedia ? opts.redrawMedia() : opts.redraw();
      } }));
    return h("div", { class: "ak-plot-row" }, [
      h("div", { class: "ak-muted", text: `${win.name} · ${win.fields.length - hidden.size} of ${win.fields.length} fields · ${win.samples} samples in view · time (s) →` }),
      h("div", { class: "ak-legends", testid: `legend-${win.name}` }, legend), canvas]);
  }

  function timeline(v0, v1, marks) {
    const skills = model.get("skills");
    const bar = h("div", { class: "ak-timeline", testid: "timeline" });
    const pct = (t) => `${(((t - v0) / (v1 - v0)) * 100).toFixed(3)}%`;
    bar.addEventListener("mousedown", (e) => {
      if (e.target !== bar) return;
      const rect = bar.getBoundingClientRect();
      seek(v0 + ((e.clientX - rect.left) / rect.width) * (v1 - v0));
    });
    for (const s of model.get("segments")) {
      if (s.kind !== "segment" || s.end_ns < v0 || s.start_ns > v1) continue;
      const color = COLORS[Math.max(0, skills.indexOf(s.skill)) % COLORS.length];
      const extra = opts.segmentClass ? opts.segmentClass(s) : "";
      const block = h("div", {
        class: `ak-seg${s.id === opts.selected() ? " ak-seg-selected" : ""}${s.valid ? "" : " ak-seg-invalid"}${extra}`,
        testid: `segment-${s.id}`, title: `${s.skill || "(no skill)"} ${fmt(s.start_ns)}–${fmt(s.end_ns)} s ${s.description}`,
        style: `left:${pct(Math.max(s.start_ns, v0))};width:calc(${pct(Math.min(s.end_ns, v1))} - ${pct(Math.max(s.start_ns, v0))});background:${color}`,
        onmousedown: (e) => { if (e.target === block) opts.select(s.id); },
      }, [h("span", { class: "ak-seg-label", text: s.skill || "·" })]);
      if (opts.edges) {
        for (const edge of ["start", "end"]) {
          const handle = h("div", { class: `ak-edge ak-edge-${edge}`, testid: `edge-${edge}-${s.id}` });
          handle.addEventListener("mousedown", (e) => {
            e.preventDefault(); e.stopPropagation();
            drag = { segment: s, edge, block };
          });
          block.append(handle);
        }
      }
      bar.append(block);
    }
    for (const c of [...model.get("comments"), ...(marks || [])]) {
      if (c.start_ns === null || c.start_ns === undefined) continue;
      bar.append(h("div", { class: `ak-comment-mark${c.draft ? " ak-comment-draft" : ""}`, testid: c.draft ? "anchor-mark" : "comment-mark",
        title: c.comment || "", style: `left:${pct(c.start_ns)};width:calc(${pct(c.end_ns)} - ${pct(c.start_ns)})` }));
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
    opts.select(s.id);
    if (t === undefined) return;
    opts.onEdge?.(s, edge === "start" ? { start_ns: Math.min(t, s.end_ns) } : { end_ns: Math.max(t, s.start_ns) });
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

  /** Cameras, plots, timeline, overview and transport. @param {any[]} [marks] extra time marks */
  function media(marks) {
    const [v0, v1] = model.get("view").length ? model.get("view") : [0, model.get("duration_ns")];
    return [
      h("div", { class: "ak-cameras" }, model.get("shown_cameras").map((c) => {
        const frame = frameFor(c);
        const key = `${c}|${frame?.src || ""}|${frame?.at}|${frame?.error || ""}`;
        const kept = figures.get(c);
        if (kept?.key === key) return kept.element;  // the same frame: not decoded again
        const element = h("figure", { class: "ak-camera" }, [
          frame?.src ? h("img", { src: frame.src, testid: `frame-${c}`, alt: c, "data-at": String(frame.at) })
            : h("div", { class: "ak-muted", text: frame?.error || "…" }),
          h("figcaption", { class: "ak-muted", text: short(c) }),
        ]);
        figures.set(c, { key, element });
        return element;
      })),
      ...model.get("windows").map((w) => plot(w, v0, v1)),
      timeline(v0, v1, marks),
      overview(),
      h("div", { class: "ak-toolbar" }, [
        h("button", { text: playing ? "❚❚" : "▶", testid: "play", onclick: play }),
        h("span", { testid: "time", text: `${fmt(model.get("playhead"))} / ${fmt(model.get("duration_ns"))} s` }),
        ...[["10 s", 10], ["60 s", 60], ["5 min", 300], ["All", Infinity]].map(([label, s]) =>
          h("button", { text: label, testid: `zoom-${label}`, onclick: () => zoom(s === Infinity ? model.get("duration_ns") : s * SECOND) })),
      ]),
    ];
  }

  /** Review comments on this episode as a clickable list. */
  function comments() {
    const items = model.get("comments").map((c) => h("li", { testid: "comment",
      title: c.annotation ? `open annotation #${c.annotation}` : "",
      onclick: () => {  // the comment's annotation is selected: edit it right there
        if (c.start_ns !== null) seek(c.start_ns);
        if (c.annotation && model.get("segments").some((s) => s.id === c.annotation)) opts.select(c.annotation);
      },
      text: `Round ${c.round} · ${c.decision}` + (c.start_ns !== null ? ` @ ${fmt(c.start_ns)}–${fmt(c.end_ns)} s` : "") +
        (c.comment ? `: ${c.comment}` : "") }));
    return items.length ? [h("h4", { text: "Review comments" }), h("ul", { class: "ak-list", testid: "comments" }, items)] : [];
  }

  function cleanup() {
    model.off?.("change:prefetch", absorb);
    clearInterval(playing);
    window.removeEventListener("mousemove", onMove);
    window.removeEventListener("mouseup", onUp);
  }

  return { seek, zoom, play, key, header, media, comments, cleanup };
}
