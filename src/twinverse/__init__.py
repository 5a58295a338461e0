"""twinverse: an open industrial-metaverse platform — a live, shared, simulated twin of an enterprise."""

__version__ = "0.1.0"

__all__ = ["__version__"]
