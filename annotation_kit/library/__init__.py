"""What a project's work refers to: skills, dictionaries, guidelines (each versioned), storage
connections, settings."""
