"""The only code that talks SQL: pool, migrations and repositories."""
