"""The YAML text layer: composing, cutting a list by its lines, writing and editing text."""
