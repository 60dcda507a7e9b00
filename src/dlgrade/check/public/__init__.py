"""Public self-checks, one module per exercise (they ship with the package)."""
