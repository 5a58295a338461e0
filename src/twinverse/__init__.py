"""twinverse."""
