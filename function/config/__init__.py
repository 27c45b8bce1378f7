"""The functionConfig: defaults, the typed model, loading and the schema."""
