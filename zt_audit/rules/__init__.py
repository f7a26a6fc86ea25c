"""Built-in Python check logic, one module per domain; registered via entry points."""
