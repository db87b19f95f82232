// TaskBoard front end: one module for JupyterLab (anywidget) and `panel serve`
// (AnyWidgetComponent); `h`, `request` and `update` come from _common.js.

/** @param {{ model: Model, el: HTMLElement }} ctx */
function render({ model, el }) {
  const root = h("div", { class: "ak-widget ak-board", testid: "task-board" });
  el.append(root);
  /** Filters, sort or page asked of Python and not answered yet: the rows shown are the old
   * ones, so the list says it is busy and its boxes wait (a tick would land on a row about to
   * be replaced). Python echoes what each answer was read for (`listed`). */
  let asked = null;
  let pendingTimer = 0;
  const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
  const isPending = () => asked !== null && Object.entries(asked).some(([k, v]) => !same((model.get("listed") || {})[k], v));
  const ask = (values) => {
    if (Object.entries(values).some(([k, v]) => !same(model.get(k), v))) {
      asked = { ...(asked || {}), ...values };
      clearTimeout(pendingTimer);
      pendingTimer = setTimeout(() => { asked = null; draw(); }, 10000);  // never stuck
    }
    update(model, values);
  };
  let searchTimer = 0;
  let confirming = false;
  let editing = false;  // the batch edit form is open
  let bellOpen = false;
  let choosing = false;  // the notification settings are open

  function toggleSelected(id) {
    const selected = new Set(model.get("selected"));
    selected.has(id) ? selected.delete(id) : selected.add(id);
    update(model, { selected: [...selected] });
  }

  function card(task) {
    const selected = model.get("selected").includes(task.id);
    const box = h("input", { type: "checkbox", testid: `select-${task.id}`,
      onchange: () => toggleSelected(task.id) });
    box.checked = selected;
    // each name opens that person's page (their tasks, load and recent activity)
    const person = (n, mark) => h("a", { href: "#", class: "ak-person", text: `${mark} ${n}`, testid: `person-${task.id}-${n}`,
      onclick: (e) => { e.preventDefault(); request(model, "person", { name: n }); } });
    const people = [...task.annotators.map((n) => person(n, "✎")), ...task.reviewers.map((n) => person(n, "✓"))];
    return h("div", { class: `ak-card${selected ? " ak-selected" : ""}`, testid: `card-${task.id}` }, [
      h("div", { class: "ak-card-head" }, [
        box,
        h("a", { class: "ak-card-name", href: "#", text: task.name, testid: `open-${task.id}`,
          onclick: (e) => { e.preventDefault(); request(model, "open", { task: task.id }); } }),
      ]),
      h("div", { class: "ak-muted ak-people" }, people.length ? people : ["unassigned"]),
      h("div", { class: "ak-muted", testid: `creator-${task.id}`, text: `created by ${task.creator}` }),
      ...(task.open_issues ? [h("div", { class: "ak-qc-warning", testid: `issues-${task.id}`,
        text: `${task.open_issues} open issue(s)` })] : []),
      h("div", { class: "ak-bar" }, [h("div", { class: "ak-bar-fill", style: `width:${task.completion}%` })]),
      h("div", { class: "ak-muted", text:
        `${task.completion}% · ${task.annotated}/${task.datasets} datasets · ${task.annotations} annotations` +
        (task.deadline ? ` · due ${task.deadline}` : "") }),
    ]);
  }

  function toolbar() {
    const search = h("input", { type: "search", placeholder: "Search name or description", size: "28",
      testid: "search", oninput: (e) => {
        clearTimeout(searchTimer);
        const value = e.target.value;
        searchTimer = setTimeout(() => ask({ search: value, page: 1 }), 250);
      } });
    search.value = model.get("search");
    const view = model.get("view");
    return h("div", { class: "ak-toolbar" }, [
      h("button", { class: view === "board" ? "ak-on" : "", text: "Board", testid: "view-board",
        onclick: () => update(model, { view: "board" }) }),
      h("button", { class: view === "list" ? "ak-on" : "", text: "List", testid: "view-list",
        onclick: () => update(model, { view: "list" }) }),
      search,
      choice(model, "project", model.get("projects"), "All projects"),
      choice(model, "assignee", model.get("people"), "Anyone"),
      h("button", { text: "↻", title: "Refresh", testid: "refresh", onclick: () => request(model, "refresh") }),
      h("button", { class: model.get("unread") ? "ak-bell ak-on" : "ak-bell", testid: "bell",
        title: "My notifications", text: `Notifications · ${model.get("unread")}`,
        onclick: () => { bellOpen = !bellOpen; draw(); } }),
    ]);
  }

  /** My notifications: click one to open its task (and mark it read). */
  function bell() {
    if (!bellOpen) return [];
    const items = model.get("notifications").map((n) => h("li", {
      testid: `notification-${n.id}`, class: n.read ? "ak-muted" : "ak-unread",
      onclick: () => request(model, "read", { notification: n.id, task: n.task, kind: n.kind,
        dataset: n.dataset, start_ns: n.start_ns }),
      text: `${n.at.slice(0, 16).replace("T", " ")} · ${n.text}` +
        (n.start_ns !== null && n.start_ns !== undefined ? ` @ ${(n.start_ns / 1e9).toFixed(3)} s` : "") }));
    return [h("div", { class: "ak-notifications", testid: "notifications" }, [
      h("div", { class: "ak-toolbar" }, [h("strong", { text: "Notifications" }),
        h("button", { text: "Mark all read", testid: "read-all", onclick: () => request(model, "read") }),
        h("button", { text: choosing ? "Done" : "What I am told of…", testid: "notify-settings",
          onclick: () => { choosing = !choosing; draw(); } })]),
      ...(choosing ? [settings()] : []),
      items.length ? h("ul", { class: "ak-list" }, items) : h("span", { class: "ak-muted", text: "Nothing yet." }),
    ])];
  }

  /** My notification preferences: a box per kind (ticked: I am told of it) and e-mail. */
  function settings() {
    const prefs = model.get("notify");
    const muted = new Set(prefs.muted || []);
    const save = (changes) => request(model, "notify", { muted: [...muted], email: !!prefs.email, ...changes });
    return h("div", { class: "ak-form", testid: "notify-form" }, [
      ...(prefs.kinds || []).map((kind) => h("label", { class: "ak-check" }, [
        h("input", { type: "checkbox", checked: !muted.has(kind), testid: `notify-${kind}`,
          onchange: (e) => { e.target.checked ? muted.delete(kind) : muted.add(kind); save({}); } }),
        ` ${kind.replaceAll("_", " ")}`])),
      h("label", { class: "ak-check" }, [
        h("input", { type: "checkbox", checked: !!prefs.email, testid: "notify-email",
          disabled: !prefs.can_email, onchange: (e) => save({ email: e.target.checked }) }),
        prefs.can_email ? " also by e-mail" : " also by e-mail (needs an e-mail address and the workspace's mail server)"]),
    ]);
  }

  /** The page of the person whose name was clicked: tasks, load, recent activity. */
  function personPage() {
    const p = model.get("profile");
    if (!p.name) return [];
    const load = p.load;
    return [h("div", { class: "ak-form ak-person-page", testid: "person-page" }, [
      h("div", { class: "ak-toolbar" }, [
        h("strong", { testid: "person-name", text: `${p.display_name} (${p.name}, ${p.role}${p.active ? "" : ", disabled"})` }),
        h("button", { text: "Close", testid: "close-person", onclick: () => update(model, { profile: {} }) }),
      ]),
      h("div", { testid: "person-load", text: `Load: ${load.summary}` +
        (load.days_to_do !== null ? ` — about ${load.days_to_do} day(s) of work` : "") }),
      h("h4", { text: `Tasks (${p.tasks.length})` }),
      h("ul", { class: "ak-list", testid: "person-tasks" }, p.tasks.map((t) => h("li", {}, [
        h("a", { href: "#", text: t.name, onclick: (e) => { e.preventDefault(); request(model, "open", { task: t.id }); } }),
        ` · ${t.status_label} · ${t.completion}%`]))),
      h("h4", { text: "Recent activity" }),
      h("ul", { class: "ak-list", testid: "person-activity" }, p.activity.map((a) => h("li", {
        text: `${a.at} · ${a.action} ${a.object_type} #${a.object_id}${a.change ? ` (${a.change})` : ""}${a.note ? `: ${a.note}` : ""}` }))),
    ])];
  }

  function statusChips() {
    const active = new Set(model.get("status"));
    const counts = model.get("counts");
    return h("div", { class: "ak-chips" }, model.get("statuses").map((s) =>
      h("button", { class: `ak-chip${active.has(s.value) ? " ak-on" : ""}`, testid: `status-${s.value}`,
        text: `${s.label} ${counts[s.value] ?? 0}`,
        onclick: () => {
          const now = new Set(model.get("status"));  // the model, not the last drawing
          now.has(s.value) ? now.delete(s.value) : now.add(s.value);
          ask({ status: [...now], page: 1 });
        } })));
  }

  function selectionBar() {
    const selected = model.get("selected");
    const bar = h("div", { class: "ak-selection", testid: "selection-bar" }, [
      h("span", { text: `${selected.length} selected`, testid: "selected-count" }),
      h("button", { text: `Select all ${model.get("total")} matching`, testid: "select-all",
        onclick: () => request(model, "select_all") }),
      h("button", { text: "Clear", testid: "clear-selection", onclick: () => update(model, { selected: [] }) }),
    ]);
    if (model.get("can_manage") && selected.length) {
      const loads = model.get("loads");  // what each annotator already has to do
      const who = h("select", { testid: "reassign-to", "aria-label": "Reassign to" },
        model.get("people").map((p) => h("option", { value: p, text: loads[p] ? `${p} — ${loads[p].summary}` : p })));
      bar.append(
        who,
        h("button", { text: "Reassign annotator", testid: "reassign",
          onclick: () => request(model, "reassign", { annotators: [who.value] }) }),
        h("button", { text: "Reassign reviewer", testid: "reassign-reviewer",
          onclick: () => request(model, "reassign", { reviewers: [who.value] }) }),
        h("button", { text: editing ? "Close edit" : "Edit…", testid: "batch-edit",
          onclick: () => { editing = !editing; draw(); } }),
        confirming
          ? h("button", { class: "ak-danger", text: `Really delete ${selected.length}?`, testid: "confirm-delete",
              onclick: () => { confirming = false; request(model, "delete", { confirm: true }); } })
          : h("button", { text: "Delete…", testid: "delete",
              onclick: () => { confirming = true; draw(); } }),
      );
    }
    return editing && model.get("can_manage") && selected.length ? h("div", {}, [bar, editForm(selected.length)]) : bar;
  }

  /** Batch edit of the selected tasks: each field left blank stays as it is. */
  function editForm(count) {
    const deadline = h("input", { type: "date", testid: "edit-deadline", "aria-label": "New deadline" });
    const clear = h("input", { type: "checkbox", testid: "edit-clear-deadline" });
    const project = h("select", { testid: "edit-project", "aria-label": "New project" }, [
      h("option", { value: "", text: "(keep each task's project)" }),
      h("option", { value: "(no project)", text: "(no project)" }),
      ...model.get("projects").map((p) => h("option", { value: p, text: p })),
    ]);
    const description = h("input", { type: "text", testid: "edit-description", size: "40",
      placeholder: "new description (blank: keep)", "aria-label": "New description" });
    return h("div", { class: "ak-batch-edit", testid: "batch-edit-form" }, [
      h("label", { text: "Deadline " }, [deadline]),
      h("label", { text: " or no deadline " }, [clear]),
      h("label", { text: " Project " }, [project]),
      h("label", { text: " Description " }, [description]),
      h("button", { text: `Apply to ${count}`, testid: "apply-edit",
        onclick: () => {
          editing = false;
          request(model, "edit", { deadline: deadline.value, clear_deadline: clear.checked,
            project: project.value, description: description.value });
        } }),
    ]);
  }

  function board() {
    const columns = model.get("columns");
    const counts = model.get("counts");
    return h("div", { class: "ak-columns" }, model.get("statuses")
      .filter((s) => s.value in columns)
      .map((s) => h("div", { class: "ak-column", testid: `column-${s.value}` }, [
        h("div", { class: "ak-column-head", text: `${s.label} (${counts[s.value] ?? 0})` }),
        ...columns[s.value].map(card),
      ])));
  }

  function list() {
    const sort = model.get("sort");
    const header = (key, label) => h("th", {
      class: "ak-sortable", testid: `sort-${key}`,
      text: label + (sort === key ? " ▲" : sort === `-${key}` ? " ▼" : ""),
      onclick: () => ask({ sort: sort === key ? `-${key}` : key }) });
    const selected = new Set(model.get("selected"));
    const busy = isPending();
    const rows = model.get("rows").map((task) => {
      const box = h("input", { type: "checkbox", testid: `select-${task.id}`, disabled: busy ? "" : null,
        onchange: () => toggleSelected(task.id) });
      box.checked = selected.has(task.id);
      return h("tr", { testid: `row-${task.id}` }, [
        h("td", {}, [box]),
        h("td", {}, [h("a", { href: "#", text: task.name, testid: `open-${task.id}`,
          onclick: (e) => { e.preventDefault(); request(model, "open", { task: task.id }); } })]),
        h("td", { text: task.status_label }),
        h("td", { text: task.annotators.join(", ") }),
        h("td", { text: task.reviewers.join(", ") }),
        h("td", { text: `${task.completion}%` }),
        h("td", { text: task.deadline }),
      ]);
    });
    const page = model.get("page");
    const pages = model.get("pages");
    return h("div", {}, [
      h("table", { class: "ak-table", testid: "task-list", "aria-busy": busy ? "true" : "false" }, [
        h("thead", {}, [h("tr", {}, [h("th"), header("name", "Name"), header("status", "Status"),
          h("th", { text: "Annotators" }), h("th", { text: "Reviewers" }), h("th", { text: "Done" }),
          header("deadline", "Deadline")])]),
        h("tbody", {}, rows),
      ]),
      h("div", { class: "ak-pager" }, [
        h("button", { text: "‹ Prev", testid: "prev-page", disabled: page <= 1 ? "" : null,
          onclick: () => ask({ page: Math.max(1, page - 1) }) }),
        h("span", { text: `Page ${page} of ${pages} · ${model.get("total")} tasks`, testid: "page-info" }),
        h("button", { text: "Next ›", testid: "next-page",
          onclick: () => page < pages && ask({ page: page + 1 }) }),
      ]),
    ]);
  }

  // the tasks are built again only when what they show changed: news answered while someone
  // presses a card's link would otherwise replace it under the pointer, and lose the click
  const upper = h("div");
  const tasks = h("div");
  root.append(upper, tasks);
  function draw() {
    upper.replaceChildren(
      h("div", { class: "ak-user", text: `as ${model.get("user")}` }),
      toolbar(), ...bell(), ...personPage(), statusChips(), selectionBar(), ...messages(model),
    );
    const shown = ["view", "statuses", "columns", "counts", "rows", "selected", "sort", "page", "pages", "total"];
    refill(tasks, JSON.stringify([...shown.map((n) => model.get(n)), isPending()]),
      () => [model.get("view") === "list" ? list() : board()]);
  }

  draw();
  // Server data arrives with a new _revision; selection and view are local and redraw at once.
  const answered = () => { if (!isPending()) { asked = null; clearTimeout(pendingTimer); } };
  model.on("change:_revision", answered);
  const cleanup = subscribe(model, ["selected", "view", "profile"], draw);
  return () => { model.off?.("change:_revision", answered); cleanup(); };
}

export default { render };
