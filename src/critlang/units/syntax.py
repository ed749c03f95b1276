"""The strict UCUM syntax (UCUM 2.2 §1–§7): unit code text -> a small tree.

Grammar (case-sensitive codes)::

    main-term   := "/" term | term
    term        := component (("." | "/") component)*        left-associative
    component   := annotatable [annotation] | annotation | factor [annotation] | "(" term ")"
    annotatable := simple-unit [exponent]
    simple-unit := ATOM | PREFIX METRIC-ATOM
    exponent    := ["+" | "-"] digits
    annotation  := "{" printable ASCII except braces "}"

The parser knows nothing about what the atoms mean; it is handed the sets of atom and prefix codes
so that the table generator (which reads the official XML) and the run-time engine share it.
Division is left-associative as UCUM says: ``mL/min/kg`` is mL/(min.kg), and ``umol/2.h`` is
(umol/2).h.
"""

from __future__ import annotations

from collections.abc import Container, Mapping

from critlang.errors import UnitError

# Longest input we read; a real unit code is rarely over 40 characters.
MAX_CODE_LENGTH = 200
# Bounds that keep a hostile code from costing unbounded time (10*999999 would be a million digits).
MAX_EXPONENT = 99
MAX_FACTOR_DIGITS = 30
MAX_NESTING = 20

_OPERATORS = frozenset("./(){}")
_DIGITS = frozenset("0123456789")
_SIGNS = frozenset("+-")


class Symbol:
    """A unit atom with an optional prefix and an exponent: ``mm2`` is (m, m, 2)."""

    __slots__ = ("annotation", "atom", "exponent", "position", "prefix")

    def __init__(
        self, prefix: str, atom: str, exponent: int, annotation: str | None, position: int
    ) -> None:
        self.prefix = prefix
        self.atom = atom
        self.exponent = exponent
        self.annotation = annotation
        self.position = position


class Number:
    """An integer factor such as the ``4`` in ``4.s``; UCUM factors carry no exponent."""

    __slots__ = ("annotation", "position", "value")

    def __init__(self, value: int, annotation: str | None, position: int) -> None:
        self.value = value
        self.annotation = annotation
        self.position = position


class Annotation:
    """A bare annotation such as ``{cells}``: the unit 1, labelled."""

    __slots__ = ("position", "text")

    def __init__(self, text: str, position: int) -> None:
        self.text = text
        self.position = position


class Term:
    """A sequence of components joined by ``.`` or ``/``.

    ``operators[i]`` joins ``components[i]`` to what comes before it: ``"."`` or ``"/"`` (the first
    operator is ``"."``, or ``"/"`` for a leading slash).
    """

    __slots__ = ("components", "operators")

    def __init__(self, operators: list[str], components: list[Component]) -> None:
        self.operators = operators
        self.components = components


Component = Symbol | Number | Annotation | Term


class _Parser:
    __slots__ = ("atoms", "code", "depth", "index", "prefixes")

    def __init__(self, code: str, atoms: Mapping[str, bool], prefixes: Container[str]) -> None:
        self.code = code
        self.atoms = atoms
        self.prefixes = prefixes
        self.index = 0
        self.depth = 0

    def error(self, reason: str, position: int | None = None) -> UnitError:
        return UnitError(self.code, reason, self.index if position is None else position)

    def parse(self) -> Term:
        code = self.code
        if not code:
            raise UnitError(code, "empty unit code; write `1` for a unitless number", 0)
        if len(code) > MAX_CODE_LENGTH:
            raise UnitError(code, f"unit code longer than {MAX_CODE_LENGTH} characters", 0)
        for position, char in enumerate(code):
            if not 33 <= ord(char) <= 126:
                what = "a space" if char == " " else f"the character {char!r}"
                raise self.error(f"{what} is not allowed in a UCUM code", position)
        if code[0] == "/":
            self.index = 1
            term = self.term(first_operator="/")
        else:
            term = self.term(first_operator=".")
        if self.index < len(code):
            char = code[self.index]
            if char == ")":
                raise self.error("unbalanced `)`")
            raise self.error(f"expected `.` or `/` before {char!r}")
        return term

    def term(self, first_operator: str) -> Term:
        operators = [first_operator]
        components = [self.component()]
        code = self.code
        while self.index < len(code) and code[self.index] in "./":
            operators.append(code[self.index])
            self.index += 1
            components.append(self.component())
        return Term(operators, components)

    def component(self) -> Component:
        code = self.code
        start = self.index
        if start >= len(code):
            operator = code[start - 1] if start else ""
            raise self.error(f"`{operator}` must be followed by a unit", start)
        char = code[start]
        if char == "(":
            self.depth += 1
            if self.depth > MAX_NESTING:
                raise self.error("parentheses nested too deeply")
            self.index += 1
            inner = self.term(first_operator=".")
            if self.index >= len(code) or code[self.index] != ")":
                raise self.error("unclosed `(`", start)
            self.index += 1
            self.depth -= 1
            return inner
        if char == "{":
            return Annotation(self.annotation(), start)
        if char in _DIGITS:
            digits = self.digits()
            if digits == "10" and self.index < len(code) and code[self.index] in "*^":
                # `10*` and `10^` are atoms ("the number ten for arbitrary powers").
                self.index += 1
                atom = "10" + code[self.index - 1]
                return Symbol("", atom, self.exponent(), self.optional_annotation(), start)
            if len(digits) > MAX_FACTOR_DIGITS:
                raise self.error(f"factor longer than {MAX_FACTOR_DIGITS} digits", start)
            if self.index < len(code) and code[self.index] in _SIGNS:
                raise self.error(
                    f"a number cannot take an exponent; write `10*{code[self.index :]}`"
                    if digits == "10"
                    else "a number cannot take an exponent"
                )
            value = int(digits)
            if value == 0:
                raise self.error("a factor of 0 is not a unit", start)
            return Number(value, self.optional_annotation(), start)
        if char in _OPERATORS or char in _SIGNS:
            if char in "./":
                raise self.error(f"`{char}` must be preceded by a unit")
            if char == ")":
                raise self.error(
                    "empty parentheses" if code[start - 1 : start] == "(" else "unbalanced `)`"
                )
            raise self.error(f"unexpected {char!r}")
        text = self.symbol_text()
        prefix, atom = self.resolve(text, start)
        return Symbol(prefix, atom, self.exponent(), self.optional_annotation(), start)

    def digits(self) -> str:
        code = self.code
        start = self.index
        while self.index < len(code) and code[self.index] in _DIGITS:
            self.index += 1
        return code[start : self.index]

    def exponent(self) -> int:
        code = self.code
        start = self.index
        sign = 1
        if self.index < len(code) and code[self.index] in _SIGNS:
            sign = -1 if code[self.index] == "-" else 1
            self.index += 1
            if self.index >= len(code) or code[self.index] not in _DIGITS:
                raise self.error("a sign must be followed by the exponent's digits", start)
        digits = self.digits()
        if not digits:
            return 1
        value = int(digits) if len(digits) <= 3 else MAX_EXPONENT + 1
        if value > MAX_EXPONENT:
            raise self.error(f"exponent larger than {MAX_EXPONENT}", start)
        return sign * value

    def optional_annotation(self) -> str | None:
        if self.index < len(self.code) and self.code[self.index] == "{":
            return self.annotation()
        return None

    def annotation(self) -> str:
        code = self.code
        start = self.index
        end = code.find("}", start + 1)
        if end < 0:
            raise self.error("unclosed `{`", start)
        text = code[start + 1 : end]
        if "{" in text:
            raise self.error("`{` inside an annotation", start + 1 + text.index("{"))
        self.index = end + 1
        return text

    def symbol_text(self) -> str:
        """Read a unit symbol: letters and signs, with ``[...]`` groups taken whole."""
        code = self.code
        start = self.index
        while self.index < len(code):
            char = code[self.index]
            if char == "[":
                end = code.find("]", self.index + 1)
                if end < 0:
                    raise self.error("unclosed `[`")
                self.index = end + 1
            elif char == "]":
                raise self.error("unbalanced `]`")
            elif char in _DIGITS or char in _SIGNS or char in _OPERATORS:
                break
            else:
                self.index += 1
        return code[start : self.index]

    def resolve(self, text: str, start: int) -> tuple[str, str]:
        """Split a symbol into (prefix, atom); an exact atom wins over a prefixed reading."""
        atoms = self.atoms
        if text in atoms:
            return "", text
        for length in (1, 2):
            prefix, rest = text[:length], text[length:]
            if prefix in self.prefixes and rest in atoms:
                if not atoms[rest]:
                    raise UnitError(
                        self.code,
                        f"`{rest}` takes no prefix (it is not a metric unit), "
                        f"so `{text}` is not a unit",
                        start,
                    )
                return prefix, rest
        raise UnitError(self.code, f"unknown unit `{text}`", start)


def parse_term(code: str, atoms: Mapping[str, bool], prefixes: Container[str]) -> Term:
    """Parse a strict UCUM code; ``atoms`` maps each atom code to whether it takes prefixes."""
    return _Parser(code, atoms, prefixes).parse()
