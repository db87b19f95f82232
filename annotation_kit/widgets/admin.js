// AdminPanel front end (JupyterLab and `panel serve`); helpers come from _common.js.
// Tabs: projects, skills, dictionaries, guidelines, settings, users (as far as the library lets
// this person see them). Typed values live in `form` until a button sends them; every change
// is decided by the services in Python. A guideline's preview is HTML the library rendered
// safely (raw HTML escaped, no script links); all other text is set as text.

/** @param {{ model: Model, el: HTMLElement }} ctx */
function render({ model, el }) {
  const root = h("div", { class: "ak-widget ak-admin", testid: "admin-panel" });
  el.append(root);
  /** what the forms hold between redraws */
  const form = {};

  function field(name, props = {}) {
    const tag = props.rows ? "textarea" : "input";
    const input = h(tag, { testid: `admin-${name}`, "aria-label": props.label || name, ...props });
    if (props.type === "checkbox") {
      input.checked = Boolean(form[name]);
      input.addEventListener("change", (e) => { form[name] = e.target.checked; });
    } else {
      input.value = form[name] ?? "";
      input.addEventListener("input", (e) => { form[name] = e.target.value; });
    }
    return input;
  }

  function select(name, options, label, first = options[0] ?? "") {
    const node = h("select", { testid: `admin-${name}`, "aria-label": label,
      onchange: (e) => { form[name] = e.target.value; } },
      options.map((o) => h("option", { value: o, text: o })));
    if (form[name] === undefined) form[name] = first;
    node.value = form[name];
    return node;
  }

  const button = (text, testid, onclick, cls = "") => h("button", { text, testid, onclick, class: cls });
  const table = (testid, head, rows) => h("table", { class: "ak-table", testid }, [
    h("thead", {}, [h("tr", {}, head.map((t) => h("th", { text: t })))]), h("tbody", {}, rows)]);
  const cells = (values) => values.map((v) => h("td", { text: String(v ?? "") }));
  const list = (values) => values.join(", ");

  function projectsTab() {
    const can = model.get("can").projects;
    const rows = model.get("projects").map((p) => h("tr", { testid: `project-${p.name}` }, [
      ...cells([p.name, p.visibility, list(p.members), list(p.skills) || "all", list(p.dictionaries) || "all",
        p.archived ? `archived ${p.archived}` : "", p.description]),
      h("td", {}, can ? [button("Edit", `edit-${p.name}`, () => {
        Object.assign(form, { p_name: p.name, p_description: p.description, p_visibility: p.visibility,
          p_members: p.members.join(", "), p_skills: p.skills.join(", "), p_dictionaries: p.dictionaries.join(", "),
          p_archived: Boolean(p.archived) });
        draw();
      })] : []),
    ]));
    const out = [table("projects", ["Project", "Visibility", "Members", "Skills", "Dictionaries", "Archive", "Description", ""], rows)];
    if (!can) {
      out.push(h("p", { class: "ak-muted", text: "Read only: managers and admins change projects." }));
      return out;
    }
    out.push(h("h4", { text: "New project" }), h("div", { class: "ak-toolbar" }, [
      field("new_project", { placeholder: "name", label: "New project name" }),
      field("new_description", { placeholder: "description", size: "30", label: "New project description" }),
      select("new_visibility", ["private", "visible"], "New project visibility"),
      field("new_members", { placeholder: "members: ann, rita", label: "New project members" }),
      button("Create project", "create-project", () => request(model, "create_project", {
        name: form.new_project, description: form.new_description, visibility: form.new_visibility, members: form.new_members })),
    ]));
    if (form.p_name) {
      const name = form.p_name;
      out.push(h("h4", { text: `Project ${name}` }), h("div", { class: "ak-form", testid: "project-form" }, [
        h("div", { class: "ak-toolbar" }, [
          field("p_description", { size: "40", label: "Description" }),
          select("p_visibility", ["private", "visible"], "Visibility"),
          button("Save", "save-project", () => request(model, "edit_project", { name, description: form.p_description, visibility: form.p_visibility })),
          button(form.p_archived ? "Take out of the archive" : "Archive", "archive-project",
            () => request(model, "archive", { name, archived: !form.p_archived })),
        ]),
        h("div", { class: "ak-toolbar" }, [field("p_members", { size: "40", label: "Members" }),
          button("Save members", "save-members", () => request(model, "members", { name, members: form.p_members }))]),
        h("div", { class: "ak-toolbar" }, [
          field("p_skills", { size: "30", label: "Skills offered", placeholder: "blank: the whole library" }),
          field("p_dictionaries", { size: "30", label: "Dictionaries used", placeholder: "blank: all" }),
          button("Save skills and dictionaries", "save-library", () => request(model, "project_library",
            { name, skills: form.p_skills, dictionaries: form.p_dictionaries }))]),
      ]));
    }
    return out;
  }

  function csvBox(what) {
    return h("div", { class: "ak-form" }, [
      field(`csv_${what}`, { rows: "4", cols: "70", label: `${what} CSV`, placeholder: "paste CSV with its header line" }),
      h("div", { class: "ak-toolbar" }, [
        button(`Import ${what} CSV`, `import-${what}`, () => request(model, "import", { what, csv: form[`csv_${what}`] })),
        button(`Export ${what} CSV`, `export-${what}`, () => { form.exported = what; request(model, "export_csv", { what }); }),
      ]),
      ...(model.get("csv") && form.exported === what
        ? [h("textarea", { testid: "csv-out", rows: "5", cols: "70", readonly: "", "aria-label": "CSV" }, [model.get("csv")])] : []),
    ]);
  }

  function skillsTab() {
    const can = model.get("can").library;
    const rows = model.get("skills").map((s) => h("tr", { testid: `skill-${s.name}`, class: s.deprecated ? "ak-muted" : "" }, [
      ...cells([s.position || "", s.name, s.category, `v${s.version}`, list(s.requires), s.annotations, s.episodes,
        s.annotators, s.last_used, s.deprecated ? "deprecated" : "offered"]),
      h("td", {}, can ? [button(s.deprecated ? "Restore" : "Deprecate", `deprecate-${s.name}`,
        () => request(model, "deprecate", { name: s.name, deprecated: !s.deprecated }))] : []),
    ]));
    const out = [table("skills", ["Key", "Skill", "Category", "Version", "Requires", "Annotations", "Episodes",
      "Annotators", "Last used", "State", ""], rows)];
    if (!can) return out;
    out.push(
      h("h4", { text: "Add a skill" }), h("div", { class: "ak-toolbar" }, [
        field("s_name", { placeholder: "name", label: "Skill name" }),
        field("s_category", { placeholder: "category", label: "Skill category" }),
        field("s_description", { placeholder: "description", size: "30", label: "Skill description" }),
        field("s_requires", { placeholder: "requires: reach", label: "Skill requires" }),
        button("Add skill", "create-skill", () => request(model, "create_skill", { name: form.s_name,
          category: form.s_category, description: form.s_description, requires: form.s_requires }))]),
      h("div", { class: "ak-toolbar" }, [
        field("order", { size: "40", placeholder: "hot keys 1, 2, 3…: pick, place", label: "Hot-key order" }),
        button("Set hot-key order", "reorder", () => request(model, "reorder", { order: form.order })),
        field("merge_from", { placeholder: "merge skill", label: "Merge skill" }),
        field("merge_into", { placeholder: "into skill", label: "Into skill" }),
        button("Merge", "merge", () => request(model, "merge", { name: form.merge_from, into: form.merge_into }))]),
      csvBox("skills"));
    return out;
  }

  function dictionariesTab() {
    const can = model.get("can").library;
    const rows = model.get("dictionaries").map((d) => h("tr", { testid: `dictionary-${d.name}` }, cells([
      d.name, d.kind, `v${d.version}`, Object.entries(d.labels).map(([e, n]) => `${e} (${n})`).join(", "),
      d.annotations, list(d.projects), d.last_used])));
    const out = [table("dictionaries", ["Dictionary", "Kind", "Version", "Entries (annotations)", "Annotations", "Projects", "Last used"], rows)];
    if (!can) return out;
    out.push(h("h4", { text: "Add a dictionary" }), h("div", { class: "ak-toolbar" }, [
      field("d_name", { placeholder: "name", label: "Dictionary name" }),
      field("d_kind", { placeholder: "kind: objects", label: "Dictionary kind" }),
      field("d_entries", { placeholder: "entries: cup, bowl", size: "30", label: "Dictionary entries" }),
      button("Add dictionary", "create-dictionary", () => request(model, "create_dictionary",
        { name: form.d_name, kind: form.d_kind, entries: form.d_entries }))]), csvBox("dictionaries"));
    return out;
  }

  function guidelinesTab() {
    const g = model.get("guideline");
    const can = model.get("can").guidelines;
    const names = { project: model.get("projects").map((p) => p.name), skill: model.get("skills").map((s) => s.name) };
    const scope = h("select", { testid: "guideline-scope", "aria-label": "Guideline of",
      onchange: (e) => { form.g_scope = e.target.value; form.g_name = ""; draw(); } },
      ["project", "skill"].map((s) => h("option", { value: s, text: s })));
    form.g_scope = form.g_scope || "project";
    scope.value = form.g_scope;
    const name = h("select", { testid: "guideline-name", "aria-label": "Guideline name",
      onchange: (e) => { form.g_name = e.target.value; } },
      [h("option", { value: "", text: "choose…" }), ...names[form.g_scope].map((n) => h("option", { value: n, text: n }))]);
    name.value = form.g_name || "";
    const out = [h("div", { class: "ak-toolbar" }, [scope, name,
      button("Open", "open-guideline", () => {
        delete form.g_body;
        request(model, "open_guideline", { scope: form.g_scope, name: form.g_name });
      })])];
    if (!g.name) return out;
    if (form.g_body === undefined || form.g_for !== `${g.scope}:${g.name}:${g.version}`) {
      form.g_body = g.body;
      form.g_for = `${g.scope}:${g.name}:${g.version}`;
    }
    const preview = h("div", { class: "ak-guideline-text", testid: "guideline-preview" });
    preview.innerHTML = g.html;  // safe: rendered by annotation_kit.guidelines.render
    out.push(h("h4", { text: `Guideline of ${g.scope} ${g.name}${g.version ? ` · v${g.version}` : " (none yet)"}` }));
    if (g.reference) out.push(h("p", { class: "ak-muted", testid: "guideline-reference", text: `cite as ${g.reference}` }));
    out.push(h("div", { class: "ak-annotator-body" }, [
      h("div", { class: "ak-annotator-main" }, can ? [
        field("g_body", { rows: "12", cols: "60", label: "Guideline (Markdown)" }),
        h("div", { class: "ak-toolbar" }, [button("Save a new version", "write-guideline", () => request(model, "write_guideline",
          { scope: g.scope, name: g.name, body: form.g_body }))]),
      ] : []),
      h("aside", { class: "ak-guidelines" }, [preview]),
    ]));
    out.push(h("ul", { class: "ak-list", testid: "guideline-versions" }, g.versions.map((v) => h("li", {}, [
      h("a", { href: "#", text: `v${v.version}`, onclick: (e) => { e.preventDefault();
        request(model, "open_guideline", { scope: g.scope, name: g.name, version: v.version }); } }),
      ` ${v.when} by ${v.who}`]))));
    return out;
  }

  function settingsTab() {
    return [table("settings", ["Setting", "Value (JSON)", "What it is for", ""], model.get("settings").map((s) => {
      const key = `set_${s.key}`;
      if (form[key] === undefined || form[`${key}_was`] !== s.value) { form[key] = s.value; form[`${key}_was`] = s.value; }
      return h("tr", { testid: `setting-${s.key}` }, [
        h("td", { text: s.key }), h("td", {}, [field(key, { size: "30", label: s.key })]), h("td", { text: s.doc }),
        h("td", {}, [button("Save", `save-${s.key}`, () => request(model, "setting", { key: s.key, value: form[key] })),
          button("Reset", `reset-${s.key}`, () => request(model, "setting", { key: s.key, reset: true }))]),
      ]);
    }))];
  }

  function usersTab() {
    const rows = model.get("users").map((u) => h("tr", { testid: `user-${u.name}` }, [
      ...cells([u.name, u.role, u.status, u.email, list(u.projects), u.password ? "yes" : "no"]),
      h("td", {}, [button(u.status === "active" ? "Disable" : "Enable", `status-${u.name}`,
        () => request(model, "user", { what: u.status === "active" ? "disabled" : "active", name: u.name }))]),
    ]));
    return [table("users", ["User", "Role", "Status", "E-mail", "Projects", "Password", ""], rows),
      h("h4", { text: "A user" }), h("div", { class: "ak-toolbar" }, [
        field("u_name", { placeholder: "user name", label: "User name" }),
        select("u_role", model.get("roles"), "Role", "annotator"),  // the least a new user needs
        field("u_email", { placeholder: "e-mail (optional)", label: "E-mail" }),
        field("u_password", { type: "password", placeholder: "password", label: "Password" }),
        button("Create user", "create-user", () => request(model, "user", { what: "create", name: form.u_name,
          role: form.u_role, email: form.u_email, password: form.u_password })),
        button("Set role", "set-role", () => request(model, "user", { what: "role", name: form.u_name, role: form.u_role })),
        button("Reset password", "set-password", () => request(model, "user", { what: "password", name: form.u_name, password: form.u_password })),
        button("Set e-mail", "set-email", () => request(model, "user", { what: "email", name: form.u_name, email: form.u_email })),
      ]), h("div", { class: "ak-toolbar" }, [
        select("u_project", ["", ...model.get("projects").map((p) => p.name)], "Project"),
        button("Add to project", "join-project", () => request(model, "user", { what: "join", name: form.u_name, project: form.u_project })),
        button("Remove from project", "leave-project", () => request(model, "user", { what: "leave", name: form.u_name, project: form.u_project })),
      ]), csvBox("users")];
  }

  const TABS = { projects: projectsTab, skills: skillsTab, dictionaries: dictionariesTab,
    guidelines: guidelinesTab, settings: settingsTab, users: usersTab };
  const LABELS = { projects: "Projects", skills: "Skill library", dictionaries: "Dictionaries",
    guidelines: "Guidelines", settings: "Settings", users: "Users" };

  function draw() {
    const tab = model.get("tab");
    const bar = h("div", { class: "ak-toolbar ak-tabs" }, [
      ...model.get("tabs").map((t) => h("button", { text: LABELS[t], testid: `tab-${t}`, class: t === tab ? "ak-on" : "",
        onclick: () => update(model, { tab: t }) })),
      h("span", { class: "ak-user", text: `as ${model.get("user")}` }),
    ]);
    root.replaceChildren(bar, ...messages(model), ...(TABS[tab] || projectsTab)());
  }

  draw();
  return subscribe(model, ["tab"], draw);
}

export default { render };
