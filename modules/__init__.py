"""Business modules. Each declares itself in `<name>/manifest.py` (see suite.registry)."""
