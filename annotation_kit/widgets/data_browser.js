// DataBrowser front end (JupyterLab and `panel serve`); helpers come from _common.js.

/** @param {{ model: Model, el: HTMLElement }} ctx */
function render({ model, el }) {
  const root = h("div", { class: "ak-widget ak-browser", testid: "data-browser" });
  el.append(root);
  let formOpen = false;
  let timer = 0;

  const text = (name, placeholder, width = "") => {
    const node = h("input", { type: "search", placeholder, testid: `filter-${name}`, style: width,
      oninput: (e) => {
        clearTimeout(timer);
        const value = e.target.value;
        timer = setTimeout(() => update(model, { [name]: value, page: 1 }), 300);
      } });
    node.value = model.get(name);
    return node;
  };

  function filters() {
    const facets = model.get("facets");
    return h("div", { class: "ak-toolbar" }, [
      text("search", "Name or URI"),
      choice(model, "project", model.get("projects"), "All projects"),
      choice(model, "tag", facets.tags || [], "Any tag"),
      choice(model, "robot", facets.robots || [], "Any robot"),
      choice(model, "format", facets.formats || [], "Any format"),
      text("min_s", "min s", "width:60px"),
      text("max_s", "max s", "width:60px"),
      text("since", "since YYYY-MM-DD", "width:160px"),
      choice(model, "qc_status", ["pass", "warning", "error", "overridden", "unchecked"], "Any QC"),
      choice(model, "assignment", ["unassigned", "assigned", "annotated", "not_annotated"], "Any assignment"),
      h("button", { text: "↻", title: "Refresh", testid: "refresh", onclick: () => request(model, "refresh") }),
    ]);
  }

  function table() {
    const selected = new Set(model.get("selected"));
    const rows = model.get("rows").map((d) => {
      const box = h("input", { type: "checkbox", testid: `select-${d.id}`, onchange: () => {
        const now = new Set(model.get("selected"));
        now.has(d.id) ? now.delete(d.id) : now.add(d.id);
        update(model, { selected: [...now] });
      } });
      box.checked = selected.has(d.id);
      return h("tr", { testid: `row-${d.id}` }, [
        h("td", {}, [box]), h("td", { text: d.name }), h("td", { text: d.format }),
        h("td", { text: `${d.duration_s} s` }), h("td", { text: String(d.cameras) }),
        h("td", { text: d.robot }), h("td", { text: d.tags.join(", ") }),
        h("td", { class: `ak-qc-${d.qc_status}`, text: d.qc_status }),
        h("td", { text: d.active_tasks.join(", ") }), h("td", { text: d.uploaded }),
      ]);
    });
    const page = model.get("page");
    const pages = model.get("pages");
    return h("div", {}, [
      h("table", { class: "ak-table" }, [
        h("thead", {}, [h("tr", {}, ["", "Dataset", "Format", "Duration", "Cameras", "Robot", "Tags",
          "QC", "In tasks", "Uploaded"].map((t) => h("th", { text: t })))]),
        h("tbody", {}, rows),
      ]),
      h("div", { class: "ak-pager" }, [
        h("button", { text: "‹ Prev", testid: "prev-page", onclick: () => page > 1 && update(model, { page: page - 1 }) }),
        h("span", { testid: "page-info", text: `Page ${page} of ${pages} · ${model.get("total")} datasets` }),
        h("button", { text: "Next ›", testid: "next-page", onclick: () => page < pages && update(model, { page: page + 1 }) }),
      ]),
    ]);
  }

  function selectionBar() {
    const count = model.get("selected").length;
    const bar = h("div", { class: "ak-selection" }, [
      h("span", { testid: "selected-count", text: `${count} selected` }),
      h("button", { text: `Select all ${model.get("total")} matching`, testid: "select-all",
        onclick: () => request(model, "select_all") }),
      h("button", { text: "Clear", testid: "clear-selection", onclick: () => update(model, { selected: [] }) }),
    ]);
    if (model.get("can_create") && count) {
      bar.append(h("button", { class: "ak-on", text: `Annotate ${count}…`, testid: "annotate",
        onclick: () => { formOpen = true; request(model, "check"); draw(); } }));
    }
    return bar;
  }

  // The form is built once per opening, so what is typed survives answers from Python;
  // only the warning about datasets already in active tasks is redrawn.
  let formNode = null;
  let showProposalNow = () => {};  // the open form's proposal, redrawn on each answer
  const warning = h("div");
  function showBusy() {
    const busy = model.get("busy");
    warning.replaceChildren(...busy.length ? [h("div", { class: "ak-warning", testid: "busy-warning" }, [
      h("div", { text: "Already in active tasks:" }), ...busy.map((b) => h("div", { text: b }))])] : []);
  }

  function form() {
    const field = (label, node) => h("label", { class: "ak-field" }, [h("span", { text: label }), node]);
    const name = h("input", { testid: "task-name", placeholder: "Task name" });
    const description = h("textarea", { testid: "task-description", rows: "2" });
    // annotators are offered the annotators; reviewers the reviewers, managers and admins
    const roles = model.get("roles");
    // each candidate annotator shows what they already have to do, and their pace
    const loads = model.get("loads");
    const many = (testid, wanted) => h("select", { multiple: "", size: "4", testid,
      title: "Ctrl-click (⌘-click) to pick several" },
      model.get("people").filter((p) => wanted.includes(roles[p])).map((p) => h("option", { value: p,
        text: loads[p] ? `${p} — ${loads[p].summary}` : p })));
    const annotators = many("task-annotators", ["annotator"]);
    const reviewers = many("task-reviewers", ["reviewer", "manager", "admin"]);
    const project = h("select", { testid: "task-project" },
      [h("option", { value: "", text: "(none)" }), ...model.get("projects").map((p) => h("option", { value: p, text: p }))]);
    // the datasets' own project when they share one, else the filter's
    const chosen = new Set(model.get("selected"));
    const theirs = new Set(model.get("rows").filter((r) => chosen.has(r.id) && r.project).map((r) => r.project));
    project.value = theirs.size === 1 ? [...theirs][0] : model.get("project");
    const deadline = h("input", { type: "date", testid: "task-deadline" });
    const picked = (select) => [...select.selectedOptions].map((o) => o.value);
    const proposalNode = h("div");
    const node = h("div", { class: "ak-form", testid: "create-form" }, [
      h("div", { class: "ak-column-head", text: `New task from ${model.get("selected").length} dataset(s)` }),
      warning,
      field("Name", name), field("Description", description), field("Annotators", annotators),
      field("Reviewers", reviewers), field("Project", project), field("Deadline", deadline),
      h("div", { class: "ak-muted", text: "Ctrl-click (⌘-click) picks several annotators or reviewers." }),
      h("div", { class: "ak-toolbar" }, [
        h("button", { class: "ak-on", text: "Create task", testid: "create-task", onclick: () => {
          formOpen = false;
          request(model, "create", { name: name.value, description: description.value,
            annotators: picked(annotators), reviewers: picked(reviewers), project: project.value,
            deadline: deadline.value });
        } }),
        h("button", { text: "Balance across the annotators…", testid: "balance",
          title: "a task per chosen annotator, the datasets spread by what each still has to do",
          onclick: () => request(model, "balance", { annotators: picked(annotators) }) }),
        h("button", { text: "Cancel", testid: "cancel", onclick: () => { formOpen = false; draw(); } }),
      ]),
      proposalNode,
    ]);

    function showProposal() {
      const plan = model.get("proposal");
      const names = Object.keys(plan);
      if (!names.length) { proposalNode.replaceChildren(); return; }
      proposalNode.replaceChildren(h("div", { class: "ak-warning", testid: "proposal" }, [
        h("div", { text: "Proposed, by what each still has to do:" }),
        ...names.map((n) => h("div", { testid: `proposal-${n}`,
          text: `${n}: ${plan[n].length} dataset(s)${plan[n].length ? ` (#${plan[n].join(", #")})` : ""}` +
            (loads[n] ? ` — already ${loads[n].hours_to_do} h to do` : "") })),
        h("button", { class: "ak-on", text: `Create ${names.filter((n) => plan[n].length).length} task(s)`, testid: "confirm-balance",
          onclick: () => {
            formOpen = false;
            request(model, "create_balanced", { plan, name: name.value, description: description.value,
              reviewers: picked(reviewers), project: project.value, deadline: deadline.value });
          } }),
      ]));
    }
    showProposalNow = showProposal;
    return node;
  }

  /** Storage connections: browse a folder, tick files or folders, import them. */
  const ticked = new Set();
  function storageBox() {
    const names = model.get("connections");
    if (!names.length) return [];
    const shown = model.get("browsing");
    const pick = h("select", { testid: "storage-connection", "aria-label": "Storage connection",
      onchange: (e) => { ticked.clear(); request(model, "browse", { connection: e.target.value, path: "" }); } },
      [h("option", { value: "", text: "Import from storage…" }), ...names.map((n) => h("option", { value: n, text: n }))]);
    pick.value = shown.connection || "";
    const out = [pick];
    if (shown.connection) {
      const parts = shown.path ? shown.path.split("/") : [];
      const crumbs = [h("a", { href: "#", text: `${shown.connection}:`, testid: "storage-root",
        onclick: (e) => { e.preventDefault(); request(model, "browse", { connection: shown.connection, path: "" }); } }),
      ...parts.map((part, i) => h("a", { href: "#", text: ` / ${part}`, onclick: (e) => { e.preventDefault();
        request(model, "browse", { connection: shown.connection, path: parts.slice(0, i + 1).join("/") }); } }))];
      const rows = shown.entries.map((entry) => h("tr", { testid: `storage-${entry.name}` }, [
        h("td", {}, [h("input", { type: "checkbox", checked: ticked.has(entry.url), "aria-label": `Import ${entry.name}`,
          onchange: (e) => { e.target.checked ? ticked.add(entry.url) : ticked.delete(entry.url); } })]),
        h("td", {}, [entry.folder
          ? h("a", { href: "#", text: `${entry.name}/`, onclick: (e) => { e.preventDefault();
            request(model, "browse", { connection: shown.connection, path: `${shown.path ? `${shown.path}/` : ""}${entry.name}` }); } })
          : h("span", { text: entry.name })]),
        h("td", { text: entry.folder ? "" : `${(entry.size / 1e6).toFixed(1)} MB` }),
      ]));
      out.push(h("span", { class: "ak-muted" }, crumbs),
        h("table", { class: "ak-table", testid: "storage-entries" }, [h("tbody", {}, rows)]),
        h("button", { text: "Import ticked", testid: "storage-import", class: "ak-on",
          onclick: () => { request(model, "import", { urls: [...ticked] }); ticked.clear(); } }));
    }
    return [h("div", { class: "ak-form", testid: "storage" }, out)];
  }

  // the form keeps its place (and focus) while the rest redraws around it
  const top = h("div");
  const slot = h("div");
  const bottom = h("div");
  root.append(top, slot, bottom);

  function draw() {
    if (!formOpen && formNode) { formNode = null; slot.replaceChildren(); }
    if (formOpen && !formNode) { formNode = form(); slot.replaceChildren(formNode); }
    showBusy();
    showProposalNow();
    top.replaceChildren(
      h("div", { class: "ak-user", text: `as ${model.get("user")}` }),
      ...storageBox(), filters(), selectionBar(), ...messages(model),
    );
    bottom.replaceChildren(table());
  }

  draw();
  return subscribe(model, ["selected"], draw);
}

export default { render };
