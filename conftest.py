"""Collection settings for the whole repository (``testpaths`` includes ``src`` for doctests).

``critlang.lsp`` needs the optional ``lsp`` extra (pygls): without it, its modules cannot be
imported for their doctests, so they are left out of collection; ``tests/lsp`` skips on its own.
"""

from __future__ import annotations

import importlib.util

collect_ignore_glob = [] if importlib.util.find_spec("pygls") else ["src/critlang/lsp/*.py"]
