"""Pure Block Kit builders: data in, plain dicts out, no I/O."""
