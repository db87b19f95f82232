// TaskDetail front end (JupyterLab and `panel serve`); helpers come from _common.js.
// The buttons offered are exactly `allowed`, which Python takes from the library.

const TABS = [["datasets", "Datasets"], ["batch", "Batch annotation"], ["invalid", "Invalid"], ["statistics", "Statistics"]];
const ACTIONS = [["start", "Start"], ["submit", "Submit for review"], ["approve", "Approve"],
  ["reject", "Reject"], ["submit_data", "Submit data"]];

/** @param {{ model: Model, el: HTMLElement }} ctx */
function render({ model, el }) {
  const root = h("div", { class: "ak-widget ak-detail", testid: "task-detail" });
  el.append(root);
  let editing = false;
  let confirmDelete = false;
  let confirmRemove = 0;
  let show = "all";  // batch tab: which datasets
  let timer = 0;
  let shown = model.get("task");
  let lastStatus = "";
  // kept across redraws, so a comment being written survives answers from Python
  const comment = h("textarea", { testid: "review-comment", rows: "3",
    placeholder: "Comment (required to reject)" });
  // raising an issue: built once too
  const issueText = h("textarea", { testid: "issue-text", rows: "2",
    placeholder: "What is unclear or wrong (guideline, recording, a missing skill…)" });
  const issueKind = h("select", { testid: "issue-kind" }, [["question", "Question"],
    ["guideline", "Unclear guideline"], ["recording", "Bad recording"], ["skill", "Missing skill"]]
    .map(([v, t]) => h("option", { value: v, text: t })));
  const issueDataset = h("select", { testid: "issue-dataset" });
  const issueFrom = h("input", { type: "number", step: "any", min: "0", testid: "issue-from", placeholder: "from s", style: "width:70px" });
  const issueTo = h("input", { type: "number", step: "any", min: "0", testid: "issue-to", placeholder: "to s", style: "width:70px" });
  const replies = new Map();  // issue id -> its reply box

  const span = (a) => a.kind === "episode" ? "whole episode" : `${a.start_s}–${a.end_s} s`;
  const table = (heads, rows, testid) => h("table", { class: "ak-table", testid }, [
    h("thead", {}, [h("tr", {}, heads.map((t) => h("th", { text: t })))]),
    h("tbody", {}, rows),
  ]);
  const bar = (percent) => h("div", { class: "ak-bar" }, [h("div", { class: "ak-bar-fill", style: `width:${percent}%` })]);

  function sidebar() {
    const info = model.get("info");
    const people = model.get("people");
    const counts = model.get("counts");
    const allowed = new Set(model.get("allowed"));
    const blocked = model.get("blocked");
    const buttons = ACTIONS.filter(([a]) => allowed.has(a)).map(([a, label]) =>
      h("button", { testid: `action-${a}`, class: a === "reject" ? "ak-danger" : blocked[a] ? "" : "ak-on", text: label,
        title: blocked[a] || "", onclick: () => request(model, a, { comment: comment.value, version: info.version }) }));
    // an action the library would refuse now says why beside it, before anyone clicks
    const why = Object.entries(blocked).filter(([a]) => allowed.has(a)).map(([a, reason]) =>
      h("div", { class: "ak-muted", testid: `${a}-blocked`, text: reason.replace(/^.*? for review: /, "Not ready for review: ") }));
    const side = [
      h("h3", { class: "ak-title", testid: "task-name", text: info.name }),
      h("div", { class: `ak-status ak-status-${info.status}`, testid: "task-status", text: info.status_label }),
      info.description ? h("p", { class: "ak-description", testid: "task-description", text: info.description }) : "",
      h("div", { class: "ak-facts", testid: "task-facts" }, [
        ["Project", info.project || "—"], ["Created", `${info.created} by ${info.creator}`],
        ["Deadline", info.deadline || "—"], ["Review round", String(info.round)],
        ["Annotators", (people.annotators || []).join(", ") || "—"],
        ["Reviewers", (people.reviewers || []).join(", ") || "—"],
      ].flatMap(([k, v]) => [h("span", { class: "ak-fact-key", text: k }), h("span", { text: v })])),
      bar(counts.completion),
      h("div", { class: "ak-muted", testid: "task-counts", text:
        `${counts.completion}% · ${counts.annotated}/${counts.datasets} datasets · ` +
        `${counts.annotations} annotations · ${counts.invalid} invalid` +
        (counts.remaining ? ` · ~${counts.remaining} left` : "") }),
    ];
    const work = [];
    if (allowed.has("annotate")) work.push(h("button", { text: "Annotate…", testid: "open-annotator",
      onclick: () => request(model, "annotate", { dataset: 0 }) }));
    if (allowed.has("approve")) work.push(h("button", { class: "ak-on", text: "Review…", testid: "open-review",
      onclick: () => request(model, "review") }));
    if (work.length) side.push(h("div", { class: "ak-actions" }, work));
    if (allowed.has("approve") || allowed.has("reject")) side.push(comment);
    side.push(h("div", { class: "ak-actions", testid: "actions" }, buttons), ...why);
    const manage = [];
    if (allowed.has("edit")) manage.push(h("button", { text: editing ? "Cancel edit" : "Edit…", testid: "edit",
      onclick: () => { editing = !editing; draw(); } }));
    if (allowed.has("delete")) manage.push(confirmDelete
      ? h("button", { class: "ak-danger", text: "Really delete this task?", testid: "confirm-delete-task",
          onclick: () => { confirmDelete = false; request(model, "delete", { confirm: true }); } })
      : h("button", { text: "Delete…", testid: "delete-task", onclick: () => { confirmDelete = true; draw(); } }));
    if (manage.length) side.push(h("div", { class: "ak-actions" }, manage));
    if (editing) side.push(editForm(info));
    const comments = model.get("comments");
    if (comments.length) side.push(h("h4", { text: "Review" }), h("ul", { class: "ak-list", testid: "comments" },
      comments.map((c) => h("li", { text: `Round ${c.round} · ${c.decision} · ${c.when}` +
        (c.dataset ? ` · ${c.dataset}` : "") + (c.start_s !== null ? ` @ ${c.start_s}–${c.end_s} s` : "") +
        (c.comment ? `: ${c.comment}` : "") }))));
    side.push(...issues());
    side.push(h("h4", { text: "History" }), h("ul", { class: "ak-list ak-muted", testid: "history" },
      model.get("history").map((e) => h("li", { text: `${e.when} ${e.who}: ${e.action} ${e.change}` +
        (e.note ? ` (${e.note})` : "") }))));
    return h("aside", { class: "ak-sidebar" }, side);
  }

  /** Issues raised on the task: each with its thread, a reply box and Resolve; a form to raise one. */
  function issues() {
    const all = model.get("issues");
    const open = all.filter((i) => i.open).length;
    const items = all.map((i) => {
      if (!replies.has(i.id)) replies.set(i.id, h("input", { testid: `reply-text-${i.id}`, placeholder: "Reply" }));
      const box = replies.get(i.id);
      const where = (i.dataset ? ` · ${i.dataset}` : "") + (i.start_s !== null ? ` @ ${i.start_s}–${i.end_s} s` : "");
      return h("li", { testid: `issue-${i.id}`, class: i.open ? "" : "ak-muted" }, [
        h("div", { text: `#${i.id} ${i.kind} · ${i.author} · ${i.when}${where}${i.open ? "" : ` · resolved by ${i.resolved_by}`}` }),
        h("div", { class: "ak-issue-text", text: i.text }),
        ...i.replies.map((r) => h("div", { class: "ak-reply", text: `${r.who} (${r.when}): ${r.text}` })),
        ...(i.open ? [h("div", { class: "ak-toolbar" }, [box,
          h("button", { text: "Reply", testid: `reply-${i.id}`, onclick: () => { request(model, "reply", { issue: i.id, text: box.value }); box.value = ""; } }),
          h("button", { text: "Resolve", testid: `resolve-${i.id}`, onclick: () => { request(model, "resolve", { issue: i.id, text: box.value }); box.value = ""; } }),
        ])] : []),
      ]);
    });
    const choices = [["", "the whole task"], ...model.get("datasets").map((d) => [String(d.id), d.name])];
    const keep = issueDataset.value;
    issueDataset.replaceChildren(...choices.map(([v, t]) => h("option", { value: v, text: t })));
    issueDataset.value = choices.some(([v]) => v === keep) ? keep : "";
    return [h("h4", { text: `Issues (${open} open)` }),
      ...(items.length ? [h("ul", { class: "ak-list", testid: "issues" }, items)] : []), raiseForm];
  }
  const raiseForm = h("details", { testid: "raise-form" }, [h("summary", { text: "Raise an issue" }),
    issueKind, issueDataset, h("div", { class: "ak-toolbar" }, [issueFrom, issueTo]), issueText,
    h("button", { class: "ak-on", text: "Raise", testid: "raise-issue", onclick: () => {
      const range = issueDataset.value && issueFrom.value !== "" && issueTo.value !== ""
        ? { start_ns: Math.round(Number(issueFrom.value) * 1e9), end_ns: Math.round(Number(issueTo.value) * 1e9) } : {};
      request(model, "raise_issue", { text: issueText.value, kind: issueKind.value,
        dataset: issueDataset.value ? Number(issueDataset.value) : null, ...range });
      issueText.value = "";
    } })]);

  function editForm(info) {
    const name = h("input", { testid: "edit-name", value: info.name });
    const description = h("textarea", { testid: "edit-description", rows: "3" });
    description.value = info.description;
    const deadline = h("input", { type: "date", testid: "edit-deadline", value: info.deadline });
    return h("div", { class: "ak-form" }, [
      h("label", { class: "ak-field" }, ["Name", name]),
      h("label", { class: "ak-field" }, ["Description", description]),
      h("label", { class: "ak-field" }, ["Deadline", deadline]),
      h("button", { class: "ak-on", text: "Save", testid: "save-edit", onclick: () => {
        editing = false;
        request(model, "edit", { name: name.value, description: description.value, deadline: deadline.value,
                                 version: info.version });
      } }),
    ]);
  }

  function datasetsTab() {
    const allowed = new Set(model.get("allowed"));
    const rows = model.get("datasets").map((d) => h("tr", { testid: `dataset-${d.id}` }, [
      h("td", { text: d.name }), h("td", { text: `${d.duration_s} s` }),
      h("td", { text: String(d.annotations) }), h("td", { text: String(d.invalid) }),
      h("td", { class: `ak-ds-${d.status.replace(" ", "-")}`, text: d.status }),
      h("td", {}, allowed.has("datasets") ? [confirmRemove === d.id
        ? h("button", { class: "ak-danger", text: "Remove with its annotations?", testid: `confirm-remove-${d.id}`,
            onclick: () => { confirmRemove = 0; request(model, "remove_dataset", { dataset: d.id }); } })
        : h("button", { text: "Remove", testid: `remove-${d.id}`, onclick: () => { confirmRemove = d.id; draw(); } })] : []),
    ]));
    const out = [table(["Dataset", "Duration", "Annotations", "Invalid", "Status", ""], rows, "datasets")];
    if (allowed.has("datasets")) {
      const search = h("input", { type: "search", placeholder: "Find datasets to add", testid: "dataset-search",
        oninput: (e) => {
          clearTimeout(timer);
          const value = e.target.value;
          timer = setTimeout(() => update(model, { dataset_search: value }), 250);
        } });
      search.value = model.get("dataset_search");
      out.push(h("div", { class: "ak-toolbar" }, [search]),
        h("ul", { class: "ak-list", testid: "candidates" }, model.get("candidates").map((c) =>
          h("li", {}, [h("button", { text: "Add", testid: `add-${c.id}`,
            onclick: () => request(model, "add_datasets", { ids: [c.id] }) }), ` ${c.name} (${c.duration_s} s)`]))));
    }
    return out;
  }

  function batchTab() {
    const counts = model.get("counts");
    const datasets = model.get("datasets").filter((d) => show === "all" || d.status === show);
    const pick = h("select", { testid: "batch-show", onchange: (e) => { show = e.target.value; draw(); } },
      [["all", "All datasets"], ["to do", "To do"], ["annotated", "Annotated"], ["invalid", "Invalid"]]
        .map(([v, t]) => h("option", { value: v, text: t })));
    pick.value = show;
    return [
      h("div", { class: "ak-toolbar" }, [pick, h("span", { class: "ak-muted", testid: "batch-progress",
        text: `${counts.annotated} of ${counts.datasets} datasets done (${counts.completion}%)` })]),
      bar(counts.completion),
      table(["Annotator", "Annotations", "Datasets"], model.get("per_annotator").map((p) =>
        h("tr", {}, [h("td", { text: p.user }), h("td", { text: String(p.annotations) }), h("td", { text: String(p.datasets) })])), "per-annotator"),
      h("h4", { text: "Datasets" }),
      table(["Dataset", "Duration", "Annotations", "Status", ""], datasets.map((d) => h("tr", {}, [
        h("td", { text: d.name }), h("td", { text: `${d.duration_s} s` }), h("td", { text: String(d.annotations) }),
        h("td", { class: `ak-ds-${d.status.replace(" ", "-")}`, text: d.status }),
        h("td", {}, new Set(model.get("allowed")).has("annotate") ? [h("button", { text: "Annotate", testid: `annotate-${d.id}`,
          onclick: () => request(model, "annotate", { dataset: d.id }) })] : [])])), "batch-datasets"),
    ];
  }

  function invalidTab() {
    const allowed = new Set(model.get("allowed"));
    const rows = model.get("invalid").map((a) => h("tr", { testid: `invalid-${a.id}` }, [
      h("td", { text: a.dataset_name }), h("td", { text: span(a) }), h("td", { text: a.skill }),
      h("td", { text: a.reason }), h("td", { text: a.author }),
      h("td", {}, allowed.has("annotate") ? [
        h("button", { text: "Re-annotate", testid: `reannotate-${a.id}`,
          onclick: () => request(model, "reannotate", { annotation: a.id, version: a.version }) }),
        h("button", { text: "Delete", testid: `delete-annotation-${a.id}`,
          onclick: () => request(model, "delete_annotation", { annotation: a.id, version: a.version }) }),
      ] : []),
    ]));
    if (!rows.length) return [h("p", { class: "ak-muted", text: "Nothing is marked invalid." })];
    return [table(["Dataset", "Span", "Skill", "Reason", "By", ""], rows, "invalid")];
  }

  function counter(title, counts, testid) {
    const entries = Object.entries(counts);
    const top = Math.max(1, ...entries.map(([, n]) => n));
    return h("div", { class: "ak-stat", testid }, [h("h4", { text: title }),
      ...(entries.length ? entries.map(([k, n]) => h("div", { class: "ak-stat-row" }, [
        h("span", { class: "ak-stat-key", text: k }),
        h("span", { class: "ak-stat-bar", style: `width:${Math.round(100 * n / top)}%` }),
        h("span", { text: String(n) })])) : [h("div", { class: "ak-muted", text: "none yet" })])]);
  }

  // the export form: built once, so what is typed survives redraws
  const exportFormat = h("select", { testid: "export-format" });
  const exportTo = h("input", { testid: "export-destination", placeholder: "Destination folder or URL (s3://…)", style: "min-width:320px" });
  function exportForm() {
    if (!new Set(model.get("allowed")).has("edit")) return [];
    const formats = model.get("formats");
    if (exportFormat.dataset.values !== formats.join()) {
      exportFormat.dataset.values = formats.join();
      exportFormat.replaceChildren(...formats.map((f) => h("option", { value: f, text: f })));
    }
    return [h("div", { class: "ak-toolbar", testid: "export-form" }, [h("strong", { text: "Export" }), exportFormat, exportTo,
      h("button", { class: "ak-on", text: "Export in the background", testid: "export",
        onclick: () => request(model, "export", { format: exportFormat.value, destination: exportTo.value }) })])];
  }

  function statisticsTab() {
    const stats = model.get("stats");
    const page = model.get("page");
    const pages = model.get("pages");
    const rows = model.get("annotations").map((a) => h("tr", { testid: `annotation-${a.id}` }, [
      h("td", { text: a.dataset_name }), h("td", { text: span(a) }), h("td", { text: a.skill }),
      h("td", { text: a.labels.join(", ") }), h("td", { text: a.description }),
      h("td", { text: a.author }), h("td", { text: a.provenance }), h("td", { text: a.valid ? "" : `invalid: ${a.reason}` }),
    ]));
    return [
      h("div", { class: "ak-stats" }, [counter("Per skill", stats.per_skill || {}, "per-skill"),
        counter("Per label", stats.per_label || {}, "per-label"),
        counter("Per annotator", stats.per_annotator || {}, "stats-annotator"),
        counter("Source", stats.per_provenance || {}, "per-provenance")]),
      ...exportForm(),
      table(["Dataset", "Span", "Skill", "Labels", "Description", "By", "Source", ""], rows, "annotations"),
      h("div", { class: "ak-pager" }, [
        h("button", { text: "‹ Prev", testid: "annotations-prev", onclick: () => page > 1 && update(model, { page: page - 1 }) }),
        h("span", { text: `Page ${page} of ${pages}`, testid: "annotations-page" }),
        h("button", { text: "Next ›", testid: "annotations-next", onclick: () => page < pages && update(model, { page: page + 1 }) }),
      ]),
    ];
  }

  function draw() {
    if (!model.get("task") || !model.get("info").id) {
      root.replaceChildren(...messages(model), h("p", { class: "ak-muted", testid: "no-task",
        text: "Open a task from the task board." }));
      return;
    }
    if (model.get("task") !== shown) {  // a task was just opened: bring it into view
      shown = model.get("task");
      editing = confirmDelete = false;
      confirmRemove = 0;
      comment.value = "";
      requestAnimationFrame(() => root.scrollIntoView({ block: "start" }));
    }
    if (model.get("info").status !== lastStatus) {  // a decision was taken: start a fresh comment
      lastStatus = model.get("info").status;
      comment.value = "";
    }
    const tab = model.get("tab");
    const body = { datasets: datasetsTab, batch: batchTab, invalid: invalidTab, statistics: statisticsTab }[tab] || datasetsTab;
    root.replaceChildren(
      h("div", { class: "ak-user" }, [`as ${model.get("user")} `,
        h("button", { text: "↻", title: "Refresh", testid: "refresh-task", onclick: () => request(model, "refresh") })]),
      ...messages(model),
      h("div", { class: "ak-detail-grid" }, [
        h("div", { class: "ak-main" }, [
          h("div", { class: "ak-tabs" }, TABS.map(([key, label]) => h("button", {
            class: key === tab ? "ak-on" : "", testid: `tab-${key}`,
            text: key === "invalid" ? `${label} (${model.get("counts").invalid})` : label,
            onclick: () => update(model, { tab: key, _error: "", _notice: "" }) }))),  // the last answer was about the other tab
          ...body(),
        ]),
        sidebar(),
      ]),
    );
  }

  draw();
  return subscribe(model, ["tab"], draw);
}

export default { render };
