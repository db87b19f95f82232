"""Who may do what: users, projects, logins, the workflow's rules, what each person sees, the event
log, checks of what people type."""
