"""Store tests: every Protocol method on memory, SQLite and PostgreSQL, plus the SQL-only parts."""
