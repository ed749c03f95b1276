"""critlang: a small, safe language for clinical-trial eligibility criteria.

>>> import critlang
>>> trial = critlang.parse('''
... inclusion
...   I1 "Age 18 or older": age >= 18 years
...   I2 "ECOG 0-1":        ECOG in 0..1
... ''')
>>> result = trial.evaluate({"birth_date": "1980-05-01", "anchors": {"screening": "2025-06-02"},
...                          "facts": {"ECOG": 2}})
>>> result.verdict
<Verdict.INELIGIBLE: 'ineligible'>
>>> print(result.criterion("I2").explain())
I2 NOT MET "ECOG 0-1" — ECOG 2 is not in 0..1

The public API lives here; the heavier modules are imported on first use, so that
``import critlang.units`` stays cheap.
"""

from __future__ import annotations

from critlang.errors import CheckError, CritlangError, ParseError, RecordError, UnitError

# Not typing.TYPE_CHECKING: importing typing would cost `import critlang.units` ~10 ms; mypy
# treats any constant of this name the same way.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from critlang.eval.result import Outcome, Result, Verdict
    from critlang.trial import Expression, Trial, compile_expr, load, parse

__all__ = [
    "CheckError",
    "CritlangError",
    "Expression",
    "Outcome",
    "ParseError",
    "RecordError",
    "Result",
    "Trial",
    "UnitError",
    "Verdict",
    "__version__",
    "compile_expr",
    "load",
    "parse",
]

__version__ = "0.1.0"

_LAZY = {
    "Trial": "critlang.trial",
    "Expression": "critlang.trial",
    "load": "critlang.trial",
    "parse": "critlang.trial",
    "compile_expr": "critlang.trial",
    "Outcome": "critlang.eval.result",
    "Result": "critlang.eval.result",
    "Verdict": "critlang.eval.result",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'critlang' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
