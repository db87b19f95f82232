// Exporter front end (JupyterLab and `panel serve`); helpers come from _common.js.
// The form's fields live here until "Export" sends them; tasks come from a filter. While one
// of my export jobs waits or runs, it asks Python for fresh state every 2 s.

/** @param {{ model: Model, el: HTMLElement }} ctx */
function render({ model, el }) {
  const root = h("div", { class: "ak-widget ak-exporter", testid: "exporter" });
  el.append(root);
  let searchTimer = 0;
  /** what the form holds between redraws */
  const form = { destination: "", release: "", only_new: false, any_status: false,
    include_invalid: false, skip_unfit: false, overwrite: false, since: "", until: "", datasets: "", options: "" };
  /** the two exports picked for a diff */
  let picked = [];

  function field(name, props = {}) {
    const input = h("input", { type: "text", testid: `export-${name.replace("_", "-")}`, ...props });
    if (props.type === "checkbox") {
      input.checked = form[name];
      input.addEventListener("change", () => { form[name] = input.checked; });
    } else {
      input.value = form[name];
      input.addEventListener("input", () => { form[name] = input.value; });
    }
    return input;
  }

  function filters() {
    const search = h("input", { type: "search", placeholder: "search task names and descriptions", size: "34",
      testid: "filter-search", "aria-label": "Search tasks",
      oninput: (e) => {
        clearTimeout(searchTimer);
        const value = e.target.value;  // read now: a shadow DOM event has no target later
        searchTimer = setTimeout(() => update(model, { search: value }), 300);
      } });
    search.value = model.get("search");
    const statuses = model.get("status");
    return h("div", { class: "ak-toolbar" }, [
      search,
      choice(model, "project", model.get("projects"), "Any project"),
      ...model.get("statuses").map((s) => h("button", {
        class: statuses.includes(s.value) ? "ak-on" : "", testid: `status-${s.value}`, text: s.label,
        onclick: () => {
          const now = new Set(model.get("status"));
          now.has(s.value) ? now.delete(s.value) : now.add(s.value);
          update(model, { status: [...now] });
        } })),
      h("span", { class: "ak-user", text: `as ${model.get("user")}` }),
    ]);
  }

  function tasks() {
    const selected = new Set(model.get("selected"));
    const toggle = (id) => {
      selected.has(id) ? selected.delete(id) : selected.add(id);
      update(model, { selected: [...selected] });
    };
    const rows = model.get("rows").map((t) => h("tr", { testid: `task-${t.id}` }, [
      h("td", {}, [h("input", { type: "checkbox", checked: selected.has(t.id), testid: `pick-${t.id}`,
        "aria-label": `Export ${t.name}`, onchange: () => toggle(t.id) })]),
      h("td", { text: `#${t.id}` }), h("td", { text: t.name }),
      h("td", {}, [h("span", { class: `ak-status ak-status-${t.status}`, text: t.status_label })]),
      h("td", { text: t.project }), h("td", { text: String(t.datasets) }), h("td", { text: String(t.annotations) }),
    ]));
    return [
      h("div", { class: "ak-selection" }, [
        h("span", { testid: "selected-count", text: `${selected.size} task(s) selected of ${model.get("total")} matching` }),
        h("button", { text: "Select all matching", testid: "select-all", onclick: () => request(model, "select_all") }),
        h("button", { text: "Clear", testid: "clear-selection", onclick: () => update(model, { selected: [] }) }),
      ]),
      h("table", { class: "ak-table", testid: "tasks" }, [
        h("thead", {}, [h("tr", {}, ["", "Task", "Name", "Status", "Project", "Episodes", "Annotations"].map((t) => h("th", { text: t })))]),
        h("tbody", {}, rows)]),
    ];
  }

  function options() {
    const format = h("select", { testid: "export-format", "aria-label": "Format",
      onchange: (e) => update(model, { format: e.target.value }) },
      model.get("formats").map((f) => h("option", { value: f, text: f })));
    format.value = model.get("format");
    const known = model.get("format_options");
    return h("div", { class: "ak-form ak-export-form", testid: "export-form" }, [
      h("div", { class: "ak-toolbar" }, [
        h("label", { text: "Format " }, [format]),
        h("label", { text: "Destination " }, [field("destination", { size: "40", placeholder: "folder or URL, e.g. exports/kitchen-v2" })]),
        h("label", { text: "Release name " }, [field("release", { size: "18", placeholder: "optional, e.g. kitchen" })]),
      ]),
      h("div", { class: "ak-toolbar" }, [
        h("label", {}, [field("only_new", { type: "checkbox" }), " only new since the last export here"]),
        h("label", {}, [field("include_invalid", { type: "checkbox" }), " include invalid marks"]),
        h("label", {}, [field("any_status", { type: "checkbox" }), " tasks in any status"]),
        h("label", {}, [field("skip_unfit", { type: "checkbox" }), " leave out episodes that do not fit the format"]),
        h("label", {}, [field("overwrite", { type: "checkbox" }), " replace what is at the destination"]),
      ]),
      h("div", { class: "ak-toolbar" }, [
        h("label", { text: "Changed since " }, [field("since", { type: "date" })]),
        h("label", { text: " until " }, [field("until", { type: "date" })]),
        h("label", { text: " Datasets " }, [field("datasets", { size: "16", placeholder: "ids, blank: all" })]),
      ]),
      h("div", { class: "ak-toolbar" }, [
        h("label", { text: "Options (JSON) " }, [field("options", { size: "40",
          placeholder: known.length ? `{"${known[0]}": …}` : "this format takes none" })]),
        h("span", { class: "ak-muted", testid: "format-options",
          text: known.length ? `${model.get("format")} takes: ${known.join(", ")}` : `${model.get("format")} takes no options` }),
      ]),
      h("button", { class: "ak-on", text: "Export in the background", testid: "run-export",
        onclick: () => request(model, "run", { ...form, format: model.get("format") }) }),
    ]);
  }

  function progress() {
    const jobs = model.get("jobs");
    if (!jobs.length) return [];
    return [h("h4", { text: "My export jobs" }), h("table", { class: "ak-table", testid: "export-jobs" }, [
      h("tbody", {}, jobs.map((j) => h("tr", { testid: `export-job-${j.id}` }, [
        h("td", { text: `job #${j.id}` }), h("td", { class: `ak-job-${j.state}`, text: j.state }),
        h("td", {}, [h("div", { class: "ak-bar" }, [h("div", { class: "ak-bar-fill", style: `width:${j.progress}%` })])]),
        h("td", { text: j.destination }),
        h("td", { text: j.export ? `export #${j.export}` : "" }),
        h("td", { class: "ak-qc-error", text: j.error }),
      ])))])];
  }

  function history() {
    const rows = model.get("history").map((e) => h("tr", { testid: `export-${e.id}` }, [
      h("td", {}, [h("input", { type: "checkbox", checked: picked.includes(e.id), testid: `compare-${e.id}`,
        "aria-label": `Compare export ${e.id}`,
        onchange: () => { picked = picked.includes(e.id) ? picked.filter((i) => i !== e.id) : [...picked, e.id].slice(-2); draw(); } })]),
      h("td", { text: `#${e.id}` }), h("td", { text: e.when }), h("td", { text: e.who }), h("td", { text: e.format }),
      h("td", { text: e.release ? `${e.release} v${e.version}` : "" }),
      h("td", { class: `ak-job-${e.status}`, text: e.status + (e.error ? `: ${e.error}` : "") }),
      h("td", { text: `${e.annotations} ann. / ${e.episodes} ep.${e.only_new ? " (only new)" : ""}` }),
      h("td", { text: `${(e.size_bytes / 1024).toFixed(1)} KiB, ${e.files} files` }),
      h("td", { text: e.destination }),
      h("td", {}, [
        h("button", { text: "Manifest", testid: `show-${e.id}`, onclick: () => request(model, "show", { export: e.id }) }),
        h("button", { text: "Re-run", testid: `rerun-${e.id}`, title: "the same export again, into the destination above",
          onclick: () => request(model, "rerun", { export: e.id, destination: form.destination, overwrite: form.overwrite }) }),
      ]),
    ]));
    const [a, b] = [...picked].sort((x, y) => x - y);
    return [
      h("h4", { text: "Export history" }),
      h("div", { class: "ak-toolbar" }, [
        h("button", { text: picked.length === 2 ? `Diff #${a} → #${b}` : "Tick two exports to diff them", testid: "diff",
          disabled: picked.length !== 2, onclick: () => request(model, "diff", { old: a, new: b }) }),
      ]),
      h("table", { class: "ak-table", testid: "history" }, [
        h("thead", {}, [h("tr", {}, ["", "Export", "When", "By", "Format", "Release", "Status", "Held", "Size", "Destination", ""].map((t) => h("th", { text: t })))]),
        h("tbody", {}, rows)]),
    ];
  }

  function diff() {
    const d = model.get("diff");
    if (!d.old) return [];
    const labels = { added: "annotations added", removed: "annotations removed", changed: "annotations changed",
      episodes_added: "episodes added", episodes_removed: "episodes removed" };
    return [h("div", { class: "ak-form", testid: "diff-result" }, [
      h("strong", { text: `Export #${d.old} → #${d.new}` }),
      h("ul", {}, Object.entries(labels).map(([key, label]) => h("li", { testid: `diff-${key}`,
        text: `${d.counts[key]} ${label}${d.ids[key].length ? `: #${d.ids[key].join(", #")}` : ""}` }))),
    ])];
  }

  function manifest() {
    const m = model.get("shown");
    if (!m.id) return [];
    return [h("div", { class: "ak-form", testid: "manifest" }, [
      h("strong", { text: `Export #${m.id} → ${m.destination}` }),
      h("pre", { class: "ak-pre", text: JSON.stringify({ counts: m.counts, options: m.options, cleaned: m.cleaned }, null, 1) }),
      h("table", { class: "ak-table" }, [h("tbody", {}, m.files.map(([path, sha]) => h("tr", {}, [
        h("td", { text: path }), h("td", { class: "ak-muted", text: sha.slice(0, 16) }),
      ])))]),
    ])];
  }

  function draw() {
    root.replaceChildren(filters(), ...tasks(), options(), ...messages(model), ...progress(), ...diff(),
      ...history(), ...manifest());
  }

  draw();
  const cleanup = subscribe(model, ["selected"], draw);
  const timer = setInterval(() => {
    const busy = model.get("jobs").some((j) => ["waiting", "delayed", "running"].includes(j.state));
    if (busy && document.visibilityState === "visible") request(model, "refresh");
  }, 2000);
  return () => { clearInterval(timer); cleanup(); };
}

export default { render };
