"""critlang: a small, safe language for clinical-trial eligibility criteria.

The public API lives here; sub-packages are imported on first use so that ``import critlang.units``
stays cheap.
"""

from __future__ import annotations

from critlang.errors import CritlangError, UnitError

__all__ = ["CritlangError", "UnitError", "__version__"]

__version__ = "0.1.0"
