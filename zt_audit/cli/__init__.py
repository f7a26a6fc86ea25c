"""The command-line layer."""
