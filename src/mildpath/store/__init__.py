"""Storage: SQLAlchemy 2 typed tables, query functions and Alembic migrations. Records, not domain objects."""
