"""The check engine: definitions, registry, context and runner."""
