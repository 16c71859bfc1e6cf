"""Console scripts: thin shells over services."""
