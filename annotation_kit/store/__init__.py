"""The store: the tables (``models``), the database and its migrations, paging, writes applied
once."""
