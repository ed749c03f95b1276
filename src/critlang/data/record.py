"""Patient records: the native JSON form of SPEC §6 (and the flat form), validated field by field.

A record whose structure is wrong (not an object, ``labs`` not a list) raises :class:`RecordError`
listing every problem. A single unreadable entry (a lab value that is not a number, an impossible
date, an unknown unit) does not: it is kept out of the record and listed in ``problems``, and a
criterion that needed it comes out UNKNOWN with that problem as its reason.

Numbers are kept exact: JSON numbers are read as decimals (``1.8`` is 18/10, not the binary float
closest to it), so comparisons at a threshold are decided as a clinician reads them.

Lazy reading, for screening: ``read_record(data, lazy=True)`` checks the record's structure and
reads everything but the lab entries, which it only groups by ``(name, code)``
(:class:`PendingLabs`). The evaluator asks for a variable's entries (:class:`LabIndex`), and only
then are they read, each exactly as the eager reader reads it (the same result, the same
problems), and once; choosing the latest or earliest result reads every entry's date and makes
only the chosen result. ``Record.labs`` reads all of them and ``Record.problems`` lists the
problems found so far, in the order the eager reader gives them: a lazily read record whose every
result has been asked for is indistinguishable from one read whole. The problems of entries never
asked for are never found: that is the point (a screen reads the labs its trial reads).

A screen's JSON records are decoded with :func:`decode_plain` first: msgspec decodes the lab
entries into typed structs (their types, and ``YYYY-MM-DD`` dates, checked in C), and one pass
checks and groups them (:class:`PlainEntries`). A record whose every entry is plain is then read
from them (:class:`CheckedLabs`: no entry has a problem, and only the result chosen is made);
any other record is decoded in full and read as above, so what a record reads is the same either
way (``tests/data/test_lazy_labs.py`` checks it on generated records).
"""

from __future__ import annotations

import datetime
import itertools
import math
import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import TYPE_CHECKING, Any, ClassVar, TypeGuard

import attrs
import msgspec

from critlang.data.jsontext import REFUSED, decode, exact_number
from critlang.errors import RecordError, UnitError
from critlang.memo import Memo
from critlang.units import parse_unit

if TYPE_CHECKING:
    from critlang.semantics.dictionary import Dictionary

# Sections a structured record may have; their presence is what makes events closed-world.
EVENT_SECTIONS = ("events", "treatments", "procedures", "medications")
CONDITION_SECTIONS = ("conditions",)
_STRUCTURED_KEYS = frozenset(
    {"labs", "facts", "anchors", *EVENT_SECTIONS, *CONDITION_SECTIONS, "birth_date", "sex", "id"}
)
_RECORD_KEYS = frozenset({*_STRUCTURED_KEYS, "age", "deceased"})
# How many of each kind of text, number and day the readers keep between records.
_SEEN_LIMIT = 65536
_QUANTITY_TEXT = re.compile(r"\s*([+-]?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)\s*(.*?)\s*")


# Results and occurrences are made by the tens per record screened: slotted classes that are not
# frozen (an attrs frozen class takes twice as long to make). Nothing changes them once read, so
# they hash by value like frozen ones.
@attrs.define(kw_only=True, unsafe_hash=True)
class LabResult:
    """One result: by ``name`` or ``code``; ``value`` a number (with ``unit``) or a symbol."""

    name: str | None
    code: str | None
    value: Fraction | str
    unit: str | None
    date: datetime.date | None
    low: Fraction | None
    high: Fraction | None
    source: str


_new_result = LabResult.__new__


def _lab_result(
    name: str | None,
    code: str | None,
    value: Fraction | str,
    unit: str | None,
    date: datetime.date | None,
    low: Fraction | None,
    high: Fraction | None,
    source: str,
) -> LabResult:
    """``LabResult(name=name, ...)``, made in half the time (the class has no converters and no
    validators: its ``__init__`` only sets the fields)."""
    result = _new_result(LabResult)
    result.name, result.code, result.value, result.unit = name, code, value, unit
    result.date, result.low, result.high, result.source = date, low, high, source
    return result


@attrs.define(kw_only=True, unsafe_hash=True)
class Occurrence:
    """A dated event, treatment or condition; ``end`` is the abatement for conditions.

    ``condition`` says which it is: a condition counts while active, an event whenever it was.
    A record's ``conditions`` hold conditions and its ``events`` the rest, whatever their makers
    set (the record sees to it).
    """

    name: str | None
    code: str | None
    start: datetime.date | None
    end: datetime.date | None
    status: str | None
    source: str
    condition: bool = False


FactValue = Fraction | bool | str | datetime.date | tuple[Fraction, str]


def _lower_keys(anchors: Mapping[str, datetime.date]) -> Mapping[str, datetime.date]:
    if all(name == name.casefold() for name in anchors):
        return anchors
    return {name.casefold(): day for name, day in anchors.items()}


def _as_conditions(items: Iterable[Occurrence] | None) -> tuple[Occurrence, ...] | None:
    return _marked(items, True)


def _as_events(items: Iterable[Occurrence] | None) -> tuple[Occurrence, ...] | None:
    return _marked(items, False)


def _marked(items: Iterable[Occurrence] | None, condition: bool) -> tuple[Occurrence, ...] | None:
    """The section's occurrences, each marked as a condition or not by the section it is in."""
    if items is None:
        return None
    return tuple(
        item if item.condition is condition else attrs.evolve(item, condition=condition)
        for item in items
    )


@attrs.frozen(kw_only=True)
class Record:
    """One patient. ``labs`` and ``problems`` are complete whichever way the record was read: a
    record read with ``lazy=True`` (:func:`read_record`) reads its lab entries when they are
    first asked for (see :class:`PendingLabs`)."""

    id: str | None
    birth_date: datetime.date | None
    sex: str | None
    age: Fraction | None
    # Anchor names are case-insensitive: kept in lower case.
    anchors: Mapping[str, datetime.date] = attrs.field(converter=_lower_keys)
    facts: Mapping[str, FactValue]
    # The results, or the entries still to read (a record read lazily).
    _labs: tuple[LabResult, ...] | PendingLabs = attrs.field(alias="labs")
    # None: the record has no such section at all
    events: tuple[Occurrence, ...] | None = attrs.field(converter=_as_events)
    conditions: tuple[Occurrence, ...] | None = attrs.field(converter=_as_conditions)
    # Without the problems of lab entries still to read (see ``problems``).
    _problems: tuple[str, ...] = attrs.field(default=(), alias="problems")

    @property
    def labs(self) -> tuple[LabResult, ...]:
        """Every lab result (a lazily read record reads all its entries now)."""
        labs = self._labs
        return labs if labs.__class__ is tuple else labs.all()  # type: ignore[union-attr]

    @property
    def problems(self) -> tuple[str, ...]:
        """What could not be read, in the record's order. For a lazily read record, the
        problems of the lab entries read so far: those of entries never read are not known."""
        labs = self._labs
        if labs.__class__ is tuple or not labs.problems:  # type: ignore[union-attr]
            return self._problems
        assert isinstance(labs, PendingLabs)
        cut = len(self._problems) - labs.after
        return (*self._problems[:cut], *labs.found_problems(), *self._problems[cut:])

    def with_problems_first(self, problems: Sequence[str]) -> Record:
        """The record with ``problems`` before its own (a reader's, about where it came from)."""
        return attrs.evolve(self, problems=(*problems, *self._problems))

    @property
    def pending_labs(self) -> PendingLabs | None:
        """The lab entries of a lazily read record (None when every result is read)."""
        labs = self._labs
        return None if labs.__class__ is tuple else labs  # type: ignore[return-value]


LabKey = tuple[str | None, str | None]
# An entry's date (None: undated) and index in the record's labs.
_Dated = tuple[datetime.date | None, int]
_UNREAD = object()


class PendingLabs:
    """A lazily read record's lab entries, grouped by their ``(name, code)``: each entry is read
    and checked when first asked for, exactly as :func:`read_record` reads it (the same result,
    the same problems), and only once.

    An entry whose name or code is not plain text (``None``, or text without blanks around it)
    is read when the record is; the others wait. ``problems`` holds, by entry index, what the
    entries read so far could not give; ``note`` (when set) is told each entry's problems as
    they are found, for a source's tally."""

    __slots__ = ("_all", "_entries", "_index", "_results", "after", "groups", "note", "problems")
    # Whether every entry is known to read without a problem (CheckedLabs): nothing to check.
    all_checked: ClassVar[bool] = False

    def __init__(self, entries: list[Any]) -> None:
        self._entries = entries
        # The indexes of the entries of each (name, code) (CheckedLabs: their dates and indexes).
        self.groups: dict[LabKey, list[Any]] = {}
        self._results: dict[int, LabResult | None] = {}
        self.problems: dict[int, tuple[str, ...]] = {}
        self.after = 0  # the record's problems that come after the labs' (set by the reader)
        self.note: Callable[[Sequence[str]], None] | None = None
        self._all: tuple[LabResult, ...] | None = None
        self._index: _IndexState | None = None

    def __getstate__(self) -> tuple[Any, ...]:
        # A copy (pickled for another process) keeps what was read, not the reader's tally
        # callback nor the index made for a dictionary.
        return (self._entries, self.groups, self._results, self.problems, self.after, self._all)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        self._entries, self.groups, self._results, self.problems, self.after, self._all = state
        self.note = None
        self._index = None

    @classmethod
    def of(cls, entries: list[Any]) -> PendingLabs:
        if entries.__class__ is PlainEntries:
            return CheckedLabs.of_plain(entries)
        pending = cls(entries)
        groups = pending.groups
        plain = _PLAIN_TEXTS
        for index, entry in enumerate(entries):
            if type(entry) is dict:
                name, code = entry.get("name"), entry.get("code")
                if (
                    (name is not None or code is not None)
                    and (name is None or (name.__class__ is str and name in plain))
                    and (code is None or (code.__class__ is str and code in plain))
                ) or (
                    (name is not None or code is not None)
                    and _plain_text(name)
                    and _plain_text(code)
                ):
                    key = (name, code)
                    found = groups.get(key)
                    if found is None:
                        groups[key] = [index]
                    else:
                        found.append(index)
                    continue
            # Unusual: read now, and grouped by what the reader made of its name and code.
            result = pending.result(index)
            if result is not None:
                groups.setdefault((result.name, result.code), []).append(index)
        return pending

    def result(self, index: int) -> LabResult | None:
        """Entry ``index`` read (None: it could not be read; its problems are noted)."""
        results = self._results
        if index in results:
            return results[index]
        entry = self._entries[index]
        where = _lab_place(index)
        found = _plain_lab(entry, where) if type(entry) is dict else None
        if found is None:
            reader = _Reader()
            found = _lab(entry, where, reader)
            if reader.problems:
                self.problems[index] = tuple(reader.problems)
                if self.note is not None:
                    self.note(reader.problems)
        results[index] = found
        return found

    def results(self, keys: Sequence[LabKey]) -> list[LabResult]:
        """The results of the entries under ``keys``, in the record's order."""
        groups = self.groups
        indexes = groups[keys[0]] if len(keys) == 1 else sorted(i for k in keys for i in groups[k])
        read = self.result
        return [result for index in indexes if (result := read(index)) is not None]

    def dated(self, keys: Sequence[LabKey]) -> list[tuple[datetime.date | None, int]]:
        """The date and index of each entry under ``keys`` that reads, in the record's order,
        without making the results: what choosing the latest (or earliest) result needs. Each
        entry is checked as :func:`_plain_lab` checks it; one it would not take is read by the
        general path now (which notes its problems, and may still read it)."""
        groups = self.groups
        indexes = groups[keys[0]] if len(keys) == 1 else sorted(i for k in keys for i in groups[k])
        entries, results = self._entries, self._results
        days, units = _DAYS, _UNIT_CODES
        found: list[tuple[datetime.date | None, int]] = []
        for index in indexes:
            result: Any = results.get(index, _UNREAD) if results else _UNREAD
            if result is _UNREAD:
                # A dict whose name and code are plain (PendingLabs.of): the rest, as _plain_lab.
                get = entries[index].get
                value = get("value")
                kind = value.__class__
                day: Any = get("date")
                low, high, unit = get("low"), get("high"), get("unit")
                if (
                    (
                        kind is int
                        or (kind is Decimal and value.is_finite())
                        or (
                            kind is str
                            and value.isalpha()
                            and value.islower()
                            and value not in _NUMBER_WORDS
                        )
                    )
                    and (
                        unit is None
                        or (
                            unit.__class__ is str
                            and (unit in units or _plain_unit(unit) is not None)
                        )
                    )
                    and (
                        day is None
                        or (
                            day.__class__ is str
                            and (day := days.get(day) or _plain_day(day)) is not None
                        )
                    )
                    and (
                        low is None
                        or low.__class__ is int
                        or (low.__class__ is Decimal and low.is_finite())
                    )
                    and (
                        high is None
                        or high.__class__ is int
                        or (high.__class__ is Decimal and high.is_finite())
                    )
                ):
                    found.append((day, index))
                    continue
                result = self.result(index)
            if result is not None:
                found.append((result.date, index))
        return found

    def checked(self, index: int) -> LabResult:
        """The result of an entry :meth:`dated` gave, made without checking it again (what
        :func:`_plain_lab` makes of it, or what was read before)."""
        results = self._results
        found = results.get(index)
        if found is None:
            get = self._entries[index].get
            value, unit, day, low, high = (
                get("value"),
                get("unit"),
                get("date"),
                get("low"),
                get("high"),
            )
            exact = _exact
            found = results[index] = _lab_result(
                get("name"),
                get("code"),
                value if value.__class__ is str else exact(value),
                None if unit is None else (_UNIT_CODES.get(unit) or _plain_unit(unit)),
                None if day is None else (_DAYS.get(day) or _plain_day(day)),
                None if low is None else exact(low),
                None if high is None else exact(high),
                _LAB_PLACES[index] if index < 1024 else f"labs[{index}]",
            )
        return found

    def all(self) -> tuple[LabResult, ...]:
        """Every entry read: the record's ``labs``."""
        found = self._all
        if found is None:
            read = self.result
            found = self._all = tuple(
                result for index in range(len(self._entries)) if (result := read(index)) is not None
            )
        return found

    def found_problems(self) -> list[str]:
        """The problems of the entries read so far, in the record's order."""
        problems = self.problems
        return [problem for index in sorted(problems) for problem in problems[index]]

    def by_variable(self, dictionary: Dictionary) -> LabIndex:
        """The entries by the name of the variable they stand for in ``dictionary``."""
        return LabIndex(self, dictionary)


class PlainEntries(list[Any]):
    """A record's lab entries as :func:`decode_plain` decodes them: every one plain (what
    :func:`_plain_lab` takes), grouped by ``(name, code)`` as :meth:`PendingLabs.of` groups
    them, each group the date and index of each of its entries, in the record's order."""

    __slots__ = ("groups",)

    def __init__(self, entries: list[_LabEntry], groups: dict[LabKey, list[_Dated]]) -> None:
        super().__init__(entries)
        self.groups = groups


class CheckedLabs(PendingLabs):
    """The entries of :class:`PlainEntries`: each already checked, so none has a problem and
    each reads as :func:`_plain_lab` reads its JSON object. A group holds the date and index
    of each entry (what :meth:`dated` gives); only the result chosen is made."""

    __slots__ = ()
    all_checked = True

    @classmethod
    def of_plain(cls, entries: PlainEntries) -> CheckedLabs:
        pending = cls(entries)
        pending.groups = entries.groups
        return pending

    def result(self, index: int) -> LabResult:
        return self.checked(index)

    def results(self, keys: Sequence[LabKey]) -> list[LabResult]:
        read = self.checked
        return [read(index) for _, index in self.dated(keys)]

    def dated(self, keys: Sequence[LabKey]) -> list[_Dated]:
        groups = self.groups
        if len(keys) == 1:
            return groups[keys[0]]
        return sorted((pair for key in keys for pair in groups[key]), key=_second)

    def checked(self, index: int) -> LabResult:
        results = self._results
        found = results.get(index)
        if found is None:
            entry = self._entries[index]
            value, unit, low, high = entry.value, entry.unit, entry.low, entry.high
            # _lab_result, inlined: this runs once per lab per record screened.
            found = results[index] = _new_result(LabResult)
            found.name, found.code, found.date = entry.name, entry.code, entry.date
            found.value = value if value.__class__ is str else _exact(value)
            found.unit = None if unit is None else (_UNIT_CODES.get(unit) or _plain_unit(unit))
            found.low = None if low is None else _exact(low)
            found.high = None if high is None else _exact(high)
            found.source = _LAB_PLACES[index] if index < 1024 else f"labs[{index}]"
        return found


_second = operator.itemgetter(1)


class _LabEntry(msgspec.Struct, gc=False):
    """A lab entry as :func:`decode_plain` decodes it: the types checked in C, a ``date`` read
    only when it is ``YYYY-MM-DD`` (RFC 3339's full-date). An absent field and ``null`` read
    alike, as ``dict.get`` reads them for :func:`_plain_lab`; other fields are ignored, as
    there. No cycles can form (decoded JSON is a tree): not tracked by the garbage collector."""

    name: str | None = None
    code: str | None = None
    value: Any = None
    unit: str | None = None
    date: datetime.date | None = None
    low: Any = None
    high: Any = None


# A record as decode_plain decodes it: the record's fields (any other field, and the record is
# decoded in full), each as JSON gives it but the labs.
_PlainRecord = msgspec.defstruct(
    "_PlainRecord",
    [
        ("labs", list[_LabEntry] | None | msgspec.UnsetType, msgspec.UNSET)
        if key == "labs"
        else (key, Any, msgspec.UNSET)
        for key in sorted(_RECORD_KEYS)
    ],
    forbid_unknown_fields=True,
    module=__name__,
)
_PLAIN_FIELDS: tuple[str, ...] = _PlainRecord.__struct_fields__


# The numbers decode_plain decodes: one Decimal per text, as a cohort repeats its values (a
# look-up costs less than making one). Never removed (a Memo), so that _exact may know a shared
# one by its id.
_DECIMALS: Memo[str, Decimal] = Memo(exact_number, _SEEN_LIMIT)
_PLAIN_DECODER = msgspec.json.Decoder(_PlainRecord, float_hook=_DECIMALS.__getitem__)


def decode_plain(text: str | bytes) -> dict[str, Any] | None:
    """The JSON object ``text`` for ``read_record(data, lazy=True)``, when it is a record whose
    lab entries are all plain: the record's fields as :func:`~critlang.data.jsontext.decode`
    gives them, but ``labs``, which is :class:`PlainEntries` (decoded into typed entries,
    checked and grouped here, in one pass). None for any other text: decode it in full (the
    general path then reads it, and reports what is unusual)."""
    try:
        typed = _PLAIN_DECODER.decode(text)
    except REFUSED:
        return None
    values = msgspec.structs.astuple(typed)
    # The fields the text has, picked in C.
    data = dict(
        itertools.compress(
            zip(_PLAIN_FIELDS, values, strict=True),
            map(operator.is_not, values, itertools.repeat(msgspec.UNSET)),
        )
    )
    entries = data.get("labs")
    if entries:
        labs = _plain_entries(entries)
        if labs is None:
            return None
        data["labs"] = labs
    return data


def _plain_entries(entries: list[_LabEntry]) -> PlainEntries | None:
    """The entries grouped by ``(name, code)``, when :func:`_plain_lab` would take each (its
    types already checked by the decoder); else None."""
    groups: dict[LabKey, list[_Dated]] = {}
    plain, units, words = _PLAIN_TEXTS, _UNIT_CODES, _NUMBER_WORDS
    for index, entry in enumerate(entries):
        name, code, value = entry.name, entry.code, entry.value
        unit, low, high = entry.unit, entry.low, entry.high
        kind = value.__class__
        # A decoded Decimal is finite: JSON has no NaN or Infinity.
        if (
            (name is not None or code is not None)
            and (name is None or name in plain or _plain_text(name))
            and (code is None or code in plain or _plain_text(code))
            and (
                kind is int
                or kind is Decimal
                or (kind is str and value.isalpha() and value.islower() and value not in words)
            )
            and (unit is None or unit in units or _plain_unit(unit) is not None)
            and (low is None or low.__class__ is int or low.__class__ is Decimal)
            and (high is None or high.__class__ is int or high.__class__ is Decimal)
        ):
            key = (name, code)
            found = groups.get(key)
            if found is None:
                groups[key] = [(entry.date, index)]
            else:
                found.append((entry.date, index))
        else:
            return None
    return PlainEntries(entries, groups)


# What a LabIndex knows of a record, kept by its PendingLabs for the last dictionary asked (a
# screen asks with one): the groups by variable name, and the variables read so far.
_IndexState = tuple[
    object,
    dict[str, list[LabKey]],
    dict[str, list[LabResult]],
    dict[str, list[tuple[datetime.date | None, int]]],
]


class LabIndex:
    """A lazily read record's results by variable name: :meth:`get` reads a variable's entries
    when it is first asked for. What it reads is kept by the record (the index refers to the
    record, never the other way round: a record is freed as soon as it is not used)."""

    __slots__ = ("_dated", "_keys", "_pending", "_read", "result")

    def __init__(self, pending: PendingLabs, dictionary: Dictionary) -> None:
        self._pending = pending
        # The result of an entry dated() gave (PendingLabs.checked).
        self.result: Callable[[int], LabResult] = pending.checked
        state = pending._index
        if state is None or state[0] is not dictionary:
            keys = dictionary.entries_by_name(tuple(pending.groups))  # shared: only read
            dated: dict[str, list[_Dated]] = {}
            if pending.all_checked:  # each variable's dates are its group's (or groups')
                groups = pending.groups
                dated = {
                    name: groups[found[0]] if len(found) == 1 else pending.dated(found)
                    for name, found in keys.items()
                }
            state = pending._index = (dictionary, keys, {}, dated)
        _, self._keys, self._read, self._dated = state

    def get(self, name: str, default: list[LabResult] | None = None) -> list[LabResult] | None:
        """The results of the variable ``name``, in the record's order."""
        found = self._read.get(name)
        if found is None:
            keys = self._keys.get(name)
            if keys is None:
                return default
            found = self._read[name] = self._pending.results(keys)
        return found

    def dated(self, name: str) -> list[tuple[datetime.date | None, int]]:
        """The date and entry index of each result of ``name`` (see :meth:`PendingLabs.dated`);
        :meth:`result` makes the one chosen."""
        found = self._dated.get(name)
        if found is None:
            keys = self._keys.get(name)
            found = self._dated[name] = [] if keys is None else self._pending.dated(keys)
        return found

    def check(self, names: Iterable[str]) -> None:
        """Read (and note the problems of) every entry of the variables ``names``."""
        for name in names:
            if name not in self._dated and name not in self._read:
                self.dated(name)


class _Reader:
    def __init__(self) -> None:
        self.problems: list[str] = []  # field-level: the field is dropped
        self.errors: list[str] = []  # structural: the record cannot be used

    def date(self, value: object, where: str, *, required: bool = False) -> datetime.date | None:
        if value is None:
            if required:
                self.problems.append(f"{where} is missing")
            return None
        if isinstance(value, str):
            text = value.strip()
            try:
                if len(text) > 10:
                    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).date()
                return datetime.date.fromisoformat(text)
            except ValueError:
                pass
        self.problems.append(f"{where}: {value!r} is not a date (write YYYY-MM-DD)")
        return None

    def number(self, value: object, where: str) -> Fraction | None:
        if isinstance(value, bool) or value is None:
            self.problems.append(f"{where}: {value!r} is not a number")
            return None
        if isinstance(value, int | Decimal | Fraction):
            exact = Fraction(value) if not isinstance(value, Decimal) else _decimal(value)
        elif isinstance(value, float):
            exact = _decimal(Decimal(repr(value))) if math.isfinite(value) else None
        elif isinstance(value, str):
            try:
                exact = _decimal(Decimal(value.strip()))
            except InvalidOperation:
                exact = None
        else:
            exact = None
        if exact is None:
            self.problems.append(f"{where}: {value!r} is not a number")
        return exact

    def text(self, value: object, where: str) -> str | None:
        if value is None:
            return None
        if isinstance(value, str) and value.strip():
            return value.strip()
        self.problems.append(f"{where}: {value!r} is not text")
        return None

    def unit(self, value: object, where: str) -> str | None:
        text = self.text(value, where)
        if text is None:
            return None
        try:
            return parse_unit(text).code
        except UnitError as error:
            self.problems.append(f"{where}: unit {text!r} cannot be read ({error.reason})")
            return None


def _decimal(value: Decimal) -> Fraction | None:
    if not value.is_finite():
        return None
    return Fraction(value)


def loads(text: str) -> dict[str, Any] | list[Any]:
    """JSON with exact decimals; NaN and Infinity are refused rather than read as floats."""
    value = decode(text)
    if not isinstance(value, dict | list):
        raise RecordError([f"expected a JSON object, got {type(value).__name__}"])
    return value


def read_record(data: object, *, lazy: bool = False) -> Record:
    """Validate one record (a parsed JSON object) into a :class:`Record`.

    ``lazy`` (what a screen reads with) leaves the lab entries to be read when first asked for:
    a criterion about ANC reads the ANC results, and only their problems are then known (see
    :class:`PendingLabs`). The structure is checked either way: a record that cannot be used
    raises :class:`RecordError` all the same.
    """
    # A dict first: an ABC's isinstance costs as much as reading a fact (this runs per record).
    if data.__class__ is not dict and not isinstance(data, Mapping):
        raise RecordError([f"a record must be a JSON object, not {type(data).__name__}"])
    reader = _Reader()
    record_id = data.get("id")
    identifier = None if record_id is None else str(record_id)
    if _STRUCTURED_KEYS.intersection(data) - {"id", "sex", "birth_date"} or not data:
        record = _read_structured(data, reader, identifier, lazy)
    else:
        record = _read_flat(data, reader, identifier)
    if reader.errors:
        raise RecordError(reader.errors, identifier)
    return record


def _section(data: Mapping[str, Any], key: str, reader: _Reader) -> list[Any] | None:
    """A list section; ``null`` is "not known" (like an absent key), never "none"."""
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, list):
        reader.errors.append(f"`{key}` must be a list, not {type(value).__name__}")
        return None
    return value


def _read_structured(
    data: Mapping[str, Any], reader: _Reader, identifier: str | None, lazy: bool = False
) -> Record:
    for key in data:
        if key not in _RECORD_KEYS:
            reader.problems.append(f"unknown field `{key}` ignored")
    anchors: dict[str, datetime.date] = {}
    raw_anchors = data.get("anchors") or {}
    if raw_anchors.__class__ is not dict and not isinstance(raw_anchors, Mapping):
        reader.errors.append("`anchors` must be an object of name: date")
    else:
        for name, value in raw_anchors.items():
            day = _plain_day(value)  # a YYYY-MM-DD text, read once per process; else in full
            if day is None:
                day = reader.date(value, f"anchors.{name}")
            if day is not None:
                anchors[str(name).casefold()] = day
    facts: dict[str, FactValue] = {}
    raw_facts = data.get("facts") or {}
    if raw_facts.__class__ is not dict and not isinstance(raw_facts, Mapping):
        reader.errors.append("`facts` must be an object of name: value")
    else:
        for name, value in raw_facts.items():
            kind = value.__class__  # booleans and plain numbers first: most facts are
            if kind is bool:
                fact: FactValue | None = value
            elif kind is int or (kind is Decimal and value.is_finite()):
                fact = _exact(value)
            elif kind is str and value in _TEXT_FACTS:
                fact = _TEXT_FACTS[value]
            else:
                before = len(reader.problems)
                fact = _fact(value, f"facts.{name}", reader)
                # A text read without a problem reads the same in every record.
                if (
                    kind is str
                    and len(reader.problems) == before
                    and len(_TEXT_FACTS) < _SEEN_LIMIT
                ):
                    _TEXT_FACTS[value] = fact
            if fact is not None:
                facts[name if name.__class__ is str else str(name)] = fact
    entries = _section(data, "labs", reader)
    labs: tuple[LabResult, ...] | PendingLabs
    if lazy and entries:
        labs = PendingLabs.of(entries)
        before = len(reader.problems)
    else:
        labs = tuple(
            lab
            for index, entry in enumerate(entries or ())
            if (lab := _lab(entry, _lab_place(index), reader)) is not None
        )
    events = _occurrences(data, EVENT_SECTIONS, reader)
    conditions = _occurrences(data, CONDITION_SECTIONS, reader)
    record = Record(
        id=identifier,
        birth_date=reader.date(data.get("birth_date"), "birth_date"),
        sex=reader.text(data.get("sex"), "sex"),
        age=reader.number(data["age"], "age") if "age" in data else None,
        anchors=anchors,
        facts=facts,
        labs=labs,
        events=events,
        conditions=conditions,
        problems=tuple(reader.problems),  # last: the arguments above may add to them
    )
    if isinstance(labs, PendingLabs):
        labs.after = len(reader.problems) - before  # where the labs' problems go
    return record


_LAB_PLACES = tuple(f"labs[{index}]" for index in range(1024))


def _lab_place(index: int) -> str:
    """``labs[index]``, made once for the first thousand places (every record has them)."""
    return _LAB_PLACES[index] if index < 1024 else f"labs[{index}]"


def _occurrences(
    data: Mapping[str, Any], sections: tuple[str, ...], reader: _Reader
) -> tuple[Occurrence, ...] | None:
    found: list[Occurrence] | None = None
    for key in sections:
        entries = _section(data, key, reader)
        if entries is None:
            continue
        found = found or []
        condition = key in CONDITION_SECTIONS
        for index, entry in enumerate(entries):
            occurrence = _occurrence(entry, f"{key}[{index}]", reader, condition)
            if occurrence is not None:
                found.append(occurrence)
    return None if found is None else tuple(found)


def _identity(
    entry: object, where: str, reader: _Reader
) -> tuple[Mapping[str, Any], str | None, str | None] | None:
    """An entry's ``name`` and ``code`` (at least one is needed), or None with the problem noted."""
    if not isinstance(entry, Mapping):
        reader.problems.append(f"{where}: expected an object")
        return None
    name = reader.text(entry.get("name"), f"{where}.name")
    code = reader.text(entry.get("code"), f"{where}.code")
    if name is None and code is None:
        reader.problems.append(f"{where}: has neither `name` nor `code`")
        return None
    return entry, name, code


def _plain_occurrence(entry: dict[str, Any], where: str, condition: bool) -> Occurrence | None:
    """The common well-formed occurrence, read without the general path's checks; None when
    anything is unusual, for :func:`_occurrence` to read and report. It gives exactly what the
    general path gives for the entries it accepts."""
    get = entry.get
    name, code, status = get("name"), get("code"), get("status")
    if (name is None and code is None) or not (
        _plain_text(name) and _plain_text(code) and _plain_text(status)
    ):
        return None
    start_text, end_text = get("start", get("onset", get("date"))), get("end", get("abatement"))
    start = end = None
    if (start_text is not None and (start := _plain_day(start_text)) is None) or (
        end_text is not None and (end := _plain_day(end_text)) is None
    ):
        return None
    if start is not None and end is not None and end < start:
        return None
    return Occurrence(
        name=name,
        code=code,
        start=start,
        end=end,
        status=status,
        source=where,
        condition=condition,
    )


def _occurrence(
    raw: object, where: str, reader: _Reader, condition: bool = False
) -> Occurrence | None:
    if type(raw) is dict:
        plain = _plain_occurrence(raw, where, condition)
        if plain is not None:
            return plain
    identity = _identity(raw, where, reader)
    if identity is None:
        return None
    entry, name, code = identity
    start = reader.date(entry.get("start", entry.get("onset", entry.get("date"))), f"{where}.start")
    end = reader.date(entry.get("end", entry.get("abatement")), f"{where}.end")
    if start is not None and end is not None and end < start:
        reader.problems.append(f"{where}: ends ({end}) before it starts ({start})")
        return None
    return Occurrence(
        name=name,
        code=code,
        start=start,
        end=end,
        status=reader.text(entry.get("status"), f"{where}.status"),
        source=where,
        condition=condition,
    )


# Numbers repeat across a cohort's records (reference limits, rounded results): each is made a
# Fraction once. A Decimal is looked up by its text: hashing a Decimal made by the JSON reader
# (every number read is a new one) costs five times as much as making and hashing its text.
_EXACT: dict[int | str, Fraction] = {}
# Lower-case words that Decimal reads as numbers: never a qualitative result.
_NUMBER_WORDS = frozenset({"nan", "snan", "inf", "infinity"})


def _exact(value: int | Decimal) -> Fraction:
    """A plain number (:func:`_plain_number`) as a Fraction."""
    key: int | str
    if value.__class__ is int:
        key = value
    else:
        found = _EXACT_BY_ID.get(id(value))
        if found is not None:
            return found
        key = str(value)
    found = _EXACT.get(key)
    if found is None:
        found = Fraction(value)
        if len(_EXACT) < 65536:
            _EXACT[key] = found
    if key.__class__ is str and _DECIMALS.get(key) is value:
        _EXACT_BY_ID[id(value)] = found  # shared for good: its id is never another's
    return found


# The Fractions of shared decimals (_DECIMALS), by the decimal's id: no text made.
_EXACT_BY_ID: dict[int, Fraction] = {}


def _plain_number(value: object) -> TypeGuard[int | Decimal]:
    kind = type(value)
    return kind is int or (kind is Decimal and value.is_finite())  # type: ignore[attr-defined]


# What plain lab entries hold repeats across a cohort's records: each text is checked, each day
# and unit read, once per process (bounded, like _EXACT).
_PLAIN_TEXTS: set[str] = set()
_DAYS: dict[str, datetime.date] = {}
# Text facts (``"positive"``, ``"62 kg"``) that read without a problem, as they read.
_TEXT_FACTS: dict[str, FactValue | None] = {}
_UNIT_CODES: dict[str, str] = {}


def _plain_text(value: object) -> bool:
    """None, or text with no space around it (what the general path keeps as it is)."""
    if value is None:
        return True
    if type(value) is not str:
        return False
    if value in _PLAIN_TEXTS:
        return True
    if value == "" or value.strip() != value:
        return False
    if len(_PLAIN_TEXTS) < _SEEN_LIMIT:
        _PLAIN_TEXTS.add(value)
    return True


def _plain_day(day: object) -> datetime.date | None:
    """A ``YYYY-MM-DD`` date; None for anything else (the general path then reads it)."""
    if type(day) is not str:
        return None
    found = _DAYS.get(day)
    if found is None:
        if len(day) != 10:
            return None
        try:
            found = datetime.date.fromisoformat(day)
        except ValueError:
            return None
        if len(_DAYS) < _SEEN_LIMIT:
            _DAYS[day] = found
    return found


def _plain_unit(unit: object) -> str | None:
    """The UCUM code of a unit spelling; None when it needs the general path."""
    if type(unit) is not str:
        return None
    found = _UNIT_CODES.get(unit)
    if found is None:
        if not unit or unit.strip() != unit:
            return None
        try:
            found = parse_unit(unit).code
        except UnitError:
            return None
        if len(_UNIT_CODES) < _SEEN_LIMIT:
            _UNIT_CODES[unit] = found
    return found


def _plain_lab(entry: dict[str, Any], where: str) -> LabResult | None:
    """The common well-formed lab entry, read without the general path's checks (screening reads
    tens of them per record); None when anything is unusual, for :func:`_lab` to read and report.
    It gives exactly what the general path gives for the entries it accepts."""
    get = entry.get
    name, code = get("name"), get("code")
    value: Any = get("value")
    if (name is None and code is None) or not (_plain_text(name) and _plain_text(code)):
        return None
    kind = type(value)
    exact: Fraction | str
    if kind is int or (kind is Decimal and value.is_finite()):
        exact = _exact(value)
    elif kind is str and value.isalpha() and value.islower() and value not in _NUMBER_WORDS:
        exact = value
    else:
        return None
    unit, day, low, high = get("unit"), get("date"), get("low"), get("high")
    unit_code = date = None
    if (
        (unit is not None and (unit_code := _plain_unit(unit)) is None)
        or (day is not None and (date := _plain_day(day)) is None)
        or (low is not None and not _plain_number(low))
        or (high is not None and not _plain_number(high))
    ):
        return None
    return _lab_result(
        name,
        code,
        exact,
        unit_code,
        date,
        None if low is None else _exact(low),
        None if high is None else _exact(high),
        where,
    )


def _lab(raw_entry: object, where: str, reader: _Reader) -> LabResult | None:
    if type(raw_entry) is dict:
        plain = _plain_lab(raw_entry, where)
        if plain is not None:
            return plain
    identity = _identity(raw_entry, where, reader)
    if identity is None:
        return None
    entry, name, code = identity
    raw = entry.get("value")
    value: Fraction | str | None
    if isinstance(raw, str) and not looks_numeric(raw):
        value = raw.strip().lower() or None
        if value is None:
            reader.problems.append(f"{where}.value is empty")
    else:
        value = reader.number(raw, f"{where}.value")
    if value is None:
        return None
    unit = reader.unit(entry.get("unit"), f"{where}.unit") if "unit" in entry else None
    if "unit" in entry and entry.get("unit") is not None and unit is None:
        return None
    date = reader.date(entry.get("date"), f"{where}.date")
    if date is None and entry.get("date") is not None:
        return None  # an unreadable date: the result cannot be placed in any window
    return LabResult(
        name=name,
        code=code,
        value=value,
        unit=unit,
        date=date,
        low=_limit(entry, "low", where, reader),
        high=_limit(entry, "high", where, reader),
        source=where,
    )


def _limit(entry: Mapping[str, Any], key: str, where: str, reader: _Reader) -> Fraction | None:
    value = entry.get(key)
    return None if value is None else reader.number(value, f"{where}.{key}")


def looks_numeric(text: str) -> bool:
    """Whether ``text`` reads as a decimal number (a lab value, not a qualitative result)."""
    try:
        Decimal(text.strip())
    except InvalidOperation:
        return False
    return True


def _fact(value: object, where: str, reader: _Reader) -> FactValue | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if _plain_number(value):
        return _exact(value)  # what reader.number gives, made once per process
    if isinstance(value, int | float | Decimal):
        return reader.number(value, where)
    if isinstance(value, Mapping) and "value" in value:
        number = reader.number(value.get("value"), f"{where}.value")
        unit = reader.unit(value.get("unit"), f"{where}.unit")
        return None if number is None or unit is None else (number, unit)
    if isinstance(value, str):
        return _text_value(value, where, reader)
    reader.problems.append(f"{where}: {value!r} is not a number, boolean, date or text")
    return None


def _text_value(text: str, where: str, reader: _Reader) -> FactValue | None:
    """A string fact: a quantity (``"62 kg"``), a number, a date or a symbol (``"female"``)."""
    stripped = text.strip()
    match = _QUANTITY_TEXT.fullmatch(stripped)
    if match and match.group(2):
        number = reader.number(match.group(1), where)
        unit = reader.unit(match.group(2), where)
        return None if number is None or unit is None else (number, unit)
    if match:
        return reader.number(match.group(1), where)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}.*", stripped):
        return reader.date(stripped, where)
    return stripped.lower() if stripped else None


def _read_flat(data: Mapping[str, Any], reader: _Reader, identifier: str | None) -> Record:
    """``{"ANC": "1.8 10*9/L", "ECOG": 1}``: every other key is a fact or an undated lab."""
    facts: dict[str, FactValue] = {}
    for key, value in data.items():
        if key in {"id", "birth_date", "sex", "age"}:
            continue
        fact = _fact(value, key, reader)
        if fact is not None:
            facts[str(key)] = fact
    return Record(
        id=identifier,
        birth_date=reader.date(data.get("birth_date"), "birth_date"),
        sex=reader.text(data.get("sex"), "sex"),
        age=reader.number(data["age"], "age") if "age" in data else None,
        anchors={},
        facts=facts,
        labs=(),
        events=None,
        conditions=None,
        problems=tuple(reader.problems),  # last: the arguments above may add to them
    )
