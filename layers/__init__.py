"""Layer tables, import/export, validation and the reference district's data."""
