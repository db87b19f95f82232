"""Episodes: datasets and their queries, lazy episodes, imports, where files live, data checks, the
synthetic generator."""
