// QueueMonitor front end (JupyterLab and `panel serve`); helpers come from _common.js.
// It asks Python for fresh state every 2 s while the page is visible: the queue is shown live.

const STATES = ["waiting", "delayed", "running", "completed", "failed", "cancelled"];

/** @param {{ model: Model, el: HTMLElement }} ctx */
function render({ model, el }) {
  const root = h("div", { class: "ak-widget ak-queue", testid: "queue-monitor" });
  el.append(root);
  let confirmClear = false;
  const hours = h("input", { type: "number", min: "0", step: "any", value: "24", testid: "clean-hours", style: "width:60px" });

  function controls() {
    if (!model.get("can_admin")) return [];
    const paused = model.get("status").paused;
    return [h("div", { class: "ak-toolbar", testid: "controls" }, [
      paused
        ? h("button", { class: "ak-on", text: "Resume", testid: "resume", onclick: () => request(model, "resume") })
        : h("button", { text: "Pause", testid: "pause", onclick: () => request(model, "pause") }),
      confirmClear
        ? h("button", { class: "ak-danger", text: "Really clear waiting and delayed jobs?", testid: "confirm-clear",
            onclick: () => { confirmClear = false; request(model, "clear", { confirm: true }); } })
        : h("button", { text: "Clear waiting…", testid: "clear", onclick: () => { confirmClear = true; draw(); } }),
      h("span", { class: "ak-muted", text: "clean finished jobs older than" }), hours, h("span", { class: "ak-muted", text: "h" }),
      h("button", { text: "Clean history", testid: "clean", onclick: () => request(model, "clean", { hours: hours.value }) }),
      h("button", { text: "Retry failed (up to 1,000)", testid: "retry-failed", onclick: () => request(model, "retry_failed") }),
    ])];
  }

  function summary() {
    const s = model.get("status");
    const counts = s.counts || {};
    const chips = STATES.map((name) => h("button", {
      class: model.get("state") === name ? "ak-on" : "", testid: `state-${name}`,
      text: `${name} ${counts[name] ?? 0}`,
      onclick: () => update(model, { state: model.get("state") === name ? "" : name }),
    }));
    const workers = (s.workers || []).length;
    return h("div", { class: "ak-toolbar" }, [
      h("span", { class: `ak-status ${s.paused ? "ak-status-pending_review" : "ak-status-review_passed"}`,
        testid: "queue-state", text: s.paused ? "Paused" : "Running" }),
      h("span", { class: workers ? "ak-muted" : "ak-status ak-status-pending_review", testid: "workers",
        title: (s.workers || []).join(", "),
        text: workers ? `${workers} worker${workers === 1 ? "" : "s"} connected` : "no worker connected" }),
      ...chips,
      h("span", { class: "ak-muted", testid: "throughput", text: `${s.completed_last_hour ?? 0} done in the last hour (${s.per_minute ?? 0}/min)` }),
      h("span", { class: "ak-user", text: `as ${model.get("user")}` }),
    ]);
  }

  /** Nothing runs the queue: say so, and what to start. */
  function noWorker() {
    const s = model.get("status");
    if ((s.workers || []).length) return [];
    return [h("div", { class: "ak-error", testid: "no-worker",
      text: "No worker is connected: waiting jobs will not start until one is. Start one with " +
            "`annotation-kit worker` (or `annotation-kit serve --workers 1`)." })];
  }

  function table() {
    const idle = !(model.get("status").workers || []).length;
    const rows = model.get("jobs").map((j) => h("tr", {
      testid: `job-${j.id}`, class: j.id === model.get("selected") ? "ak-selected-row" : "",
      onclick: () => update(model, { selected: j.id }) }, [
      h("td", { text: `#${j.id}` }), h("td", { text: j.kind }),
      h("td", { class: `ak-job-${j.state}`, text: idle && j.state === "waiting" ? "waiting · no worker" : j.state }),
      h("td", {}, [h("div", { class: "ak-bar" }, [h("div", { class: "ak-bar-fill", style: `width:${j.progress}%` })])]),
      h("td", { text: String(j.attempts) }), h("td", { text: j.owner }), h("td", { text: j.created }),
      h("td", { class: "ak-qc-error", text: j.error }),
    ]));
    return h("table", { class: "ak-table", testid: "jobs" }, [
      h("thead", {}, [h("tr", {}, ["Job", "Kind", "State", "Progress", "Tries", "By", "Queued", "Error"].map((t) => h("th", { text: t })))]),
      h("tbody", {}, rows)]);
  }

  function detail() {
    const d = model.get("detail");
    if (!d.id) return [];
    const actions = [];
    if (model.get("can_admin") && ["failed", "cancelled"].includes(d.state))
      actions.push(h("button", { text: "Retry", testid: "retry", onclick: () => request(model, "retry", { job: d.id }) }));
    if ((model.get("can_admin") || d.mine) && ["waiting", "delayed", "running"].includes(d.state))
      actions.push(h("button", { class: "ak-danger", text: "Cancel", testid: "cancel", onclick: () => request(model, "cancel", { job: d.id }) }));
    return [h("div", { class: "ak-form ak-job-detail", testid: "job-detail" }, [
      h("strong", { text: `Job #${d.id} · ${d.kind} · ${d.state}` }),
      h("div", { class: "ak-muted", text: `started ${d.started || "—"} · finished ${d.finished || "—"}` }),
      h("div", { class: "ak-actions" }, actions),
      h("h4", { text: "Parameters" }), h("pre", { class: "ak-pre", testid: "job-params", text: JSON.stringify(d.params, null, 1) }),
      h("h4", { text: "Log" }), h("pre", { class: "ak-pre", testid: "job-log", text: d.log.join("\n") || "(nothing yet)" }),
      ...(d.error ? [h("h4", { text: "Error" }), h("pre", { class: "ak-pre ak-qc-error", testid: "job-error", text: d.error })] : []),
      ...(Object.keys(d.result).length ? [h("h4", { text: "Result" }), h("pre", { class: "ak-pre", testid: "job-result", text: JSON.stringify(d.result, null, 1) })] : []),
    ])];
  }

  function draw() {
    root.replaceChildren(summary(), ...noWorker(), ...controls(), ...messages(model), table(), ...detail());
  }

  draw();
  const cleanup = subscribe(model, [], draw);
  const timer = setInterval(() => { if (document.visibilityState === "visible") request(model, "refresh"); }, 2000);
  return () => { clearInterval(timer); cleanup(); };
}

export default { render };
