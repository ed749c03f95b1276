"""Cohort readers for the native forms: JSON (one record or a list), JSON Lines, a folder of JSON
files, and CSV (one row per patient; the format is described in docs/data.md, "CSV and JSON").

Each reader is a :class:`~critlang.data.sources.PatientSource`: iterating it reads the input one
patient at a time and yields one :class:`Entry` per input patient, in input order. Nothing is
dropped and nothing raises: a line that is not JSON, a row with the wrong number of cells, a record
whose structure is wrong or an id seen before is an entry with ``record`` None and the reason in
``error``; a field that cannot be read (an unknown unit, an impossible date) is left out of the
record and listed in its ``problems``, as :func:`~critlang.data.record.read_record` does.

A reader made with ``lazy=True`` (what ``critlang screen`` opens) reads records with
``read_record(data, lazy=True)``: lab entries are read when a criterion asks for them, and the
problems (and units for the tally) of entries never asked for are not known. The tally then counts
lab entries by the ``(name, code)`` groups the reader made, and the units that could not be read
as the entries are read.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import attrs

from critlang.data.jsontext import LINE_BUFFER, decode, exact_number
from critlang.data.record import PendingLabs, decode_plain, read_record
from critlang.data.sources import Entry, Tally
from critlang.errors import RecordError
from critlang.semantics.dictionary import CONDITION, Dictionary

_CHUNK = 1 << 20  # characters read at a time from a JSON array
_LEADING_ID = re.compile(r'\A\s*\{\s*"id"\s*:\s*(?:"((?:[^"\\]|\\.)*)"|(-?\d+))')
_UNIT_PROBLEM = re.compile(r"unit '([^']*)' cannot be read")
_SECTIONS = ("labs", "events", "treatments", "procedures", "medications", "conditions")
_UNSEEN = object()


def _refuse(constant: str) -> Any:
    raise ValueError(f"{constant} is not a number")


# For a JSON array read in chunks (raw_decode): exact decimals, NaN and Infinity refused, as
# critlang.data.jsontext.decode reads a whole text.
_DECODER = json.JSONDecoder(parse_float=exact_number, parse_constant=_refuse)


class _Ids:
    """Ids seen so far in one source: a repeated id is an error entry, not a second patient."""

    def __init__(self) -> None:
        self.seen: dict[str, str] = {}

    def duplicate(self, identifier: str, where: str) -> str | None:
        first = self.seen.get(identifier)
        if first is None:
            self.seen[identifier] = where
            return None
        return f"duplicate id {identifier!r}: the same id as the patient at {first}"


class _Entries:
    """Turns parsed JSON objects into entries: validation, duplicate ids and the tally.
    ``lazy``: records are read with ``read_record(data, lazy=True)`` (see the module docstring)."""

    def __init__(self, tally: Tally, dictionary: Dictionary | None, lazy: bool = False) -> None:
        self.tally = tally
        self.dictionary = dictionary
        self.lazy = lazy
        self.ids = _Ids()
        self.unmapped: dict[tuple[str, object, object], object] = {}
        self.lab_labels: dict[tuple[str | None, str | None], object] = {}  # by (name, code)

    def error(self, identifier: str | None, where: str, message: str) -> Entry:
        return Entry(id=identifier or where, record=None, error=message, where=where)

    def entry(self, data: object, where: str, fallback: str | None = None) -> Entry:
        """The entry for one parsed record; without an id it is named ``fallback`` or
        ``where``."""
        raw_id = data.get("id") if data.__class__ is dict or isinstance(data, Mapping) else None
        identifier = None if raw_id is None else str(raw_id)
        try:
            record = read_record(data, lazy=self.lazy)
        except RecordError as error:
            return self.error(identifier, where, "; ".join(error.problems))
        except (ValueError, TypeError, RecursionError) as error:  # a value no JSON reader makes
            return self.error(identifier, where, f"cannot be read: {error}")
        identifier = identifier if identifier is not None else fallback or where
        duplicate = self.ids.duplicate(identifier, where)
        if duplicate is not None:
            return self.error(identifier, where, duplicate)
        pending = record.pending_labs
        if pending is not None:
            pending.note = self._note_units  # the problems of entries read later
        self._note(record.problems, data, pending)
        return Entry(id=identifier, record=record, where=where)

    def _note_units(self, problems: Iterable[str]) -> None:
        """Count the units that could not be read."""
        for problem in problems:
            match = _UNIT_PROBLEM.search(problem)
            if match:
                self.tally.note(f"unit {match.group(1)}")

    def _note(self, problems: tuple[str, ...], data: object, pending: PendingLabs | None) -> None:
        """Count what the dictionary cannot map, and the units that could not be read."""
        self._note_units(problems)
        if self.dictionary is None or type(data) is not dict:
            return
        # Each (section, name, code) is looked up once; a cohort repeats them endlessly.
        unmapped, note = self.unmapped, self.tally.note
        for section in _SECTIONS:
            if section == "labs" and pending is not None:
                # Lab entries by (name, code) as the reader groups them: one look-up per group.
                labels = self.lab_labels
                for pair, indexes in pending.groups.items():
                    label = labels.get(pair, _UNSEEN)
                    if label is _UNSEEN:
                        label = labels[pair] = self._unmapped(section, *pair)
                    if type(label) is str:
                        note(label, len(indexes))
                continue
            items = data.get(section)
            if type(items) is not list:
                continue
            for item in items:
                if type(item) is dict:
                    key = (section, item.get("name"), item.get("code"))
                    label = unmapped.get(key, _UNSEEN)
                    if label is _UNSEEN:
                        label = unmapped[key] = self._unmapped(*key)
                    if type(label) is str:
                        note(label)

    def _unmapped(self, section: str, name: object, code: object) -> str | None:
        """The tally's label for an entry no dictionary variable stands for, else None."""
        assert self.dictionary is not None
        if not isinstance(name, str | None) or not isinstance(code, str | None):
            return None
        if not (name or code) or self.dictionary.entry_names(name, code):
            return None
        kind = "lab" if section == "labs" else section.rstrip("s")
        return f"{kind} {name or code} (not in the dictionary)"


def _decode_error(error: json.JSONDecodeError | ValueError) -> str:
    if isinstance(error, json.JSONDecodeError):
        return f"not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})"
    return f"not valid JSON: {error}"


def _leading_id(text: str) -> str | None:
    """The id of a broken JSON line when it is the object's first key, for the error's row."""
    match = _LEADING_ID.match(text)
    if match is None:
        return None
    if match.group(1) is not None:
        try:
            value = json.loads(f'"{match.group(1)}"')
        except ValueError:
            return None
        return str(value)
    return match.group(2)


# Not frozen: one is made per input patient, and a frozen class takes twice as long to make.
@attrs.define(kw_only=True)
class Piece:
    """One input patient before it is read: the text of its JSON record (or the value already
    decoded, or the cells of its CSV row), or why there is none. Pieces are cheap to make and to
    send to another process, where a :class:`PieceReader` turns them into entries (``screen
    --jobs`` reads records in the workers, not in the process that reads the file)."""

    where: str
    text: str | None = None  # the JSON text of one record
    data: object = None  # a JSON value already decoded (from a list)
    cells: tuple[str, ...] | None = None  # a CSV row
    fallback: str | None = None  # the id of a record that has none
    prefix: str = ""  # before a message about it: ``line 4: ``
    error: str | None = None  # already known to be unreadable
    error_id: str | None = None


@attrs.frozen(kw_only=True)
class PieceReader:
    """Reads pieces into entries. Picklable: a CSV file's column plan travels with it."""

    columns: tuple[tuple[int, _Column], ...] = ()
    provided: frozenset[str] = frozenset()
    width: int = 0  # the CSV header's number of cells
    header_problems: tuple[str, ...] = ()
    lazy: bool = False  # records read with read_record(data, lazy=True)

    def entries(self, tally: Tally, dictionary: Dictionary | None) -> _Entries:
        return _Entries(tally, dictionary, self.lazy)

    def entry(self, piece: Piece, entries: _Entries) -> Entry:
        if piece.error is not None:
            return entries.error(piece.error_id, piece.where, piece.error)
        if piece.cells is not None:
            return self._row(piece.cells, piece.where, entries)
        data = piece.data
        if piece.text is not None and self.lazy:
            data = decode_plain(piece.text)  # None: not a plain record, decoded in full below
        if piece.text is not None and data is None:
            try:
                data = decode(piece.text)
            except (ValueError, RecursionError) as error:
                message = _decode_error(error) if isinstance(error, ValueError) else str(error)
                identifier = _leading_id(piece.text) or piece.fallback
                return entries.error(identifier, piece.where, f"{piece.prefix}{message}")
        if not isinstance(data, dict):
            return entries.error(
                piece.fallback,
                piece.where,
                f"{piece.prefix}expected one record (a JSON object), not {_kind(data)}",
            )
        return entries.entry(data, piece.where, fallback=piece.fallback)

    def _row(self, cells: tuple[str, ...], where: str, entries: _Entries) -> Entry:
        identifier = next(
            (
                cells[index].strip() or None
                for index, column in self.columns
                if column.role == "id" and index < len(cells)
            ),
            None,
        )
        if len(cells) != self.width:
            return entries.error(
                identifier,
                where,
                f"row has {len(cells)} cells, the header has {self.width} "
                "(a missing or extra separator shifts the columns)",
            )
        data, row_problems = _row_record(cells, self.columns, self.provided)
        entry = entries.entry(data, where)
        problems = (*self.header_problems, *row_problems)
        if entry.record is not None and problems:
            entry = attrs.evolve(entry, record=entry.record.with_problems_first(problems))
        return entry


def _kind(value: object) -> str:
    return {list: "a list", str: "text", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )


class PieceSource:
    """A source read as :class:`Piece`s: iterating it reads them here; ``screen --jobs`` reads
    them in its workers with :meth:`reader` (the entries' names tallied with
    :meth:`entry_dictionary`)."""

    path: Path
    dictionary: Dictionary | None
    tally: Tally
    lazy: bool

    def pieces(self) -> Iterator[Piece]:
        raise NotImplementedError

    def reader(self) -> PieceReader:
        return PieceReader(lazy=self.lazy)

    def entry_dictionary(self) -> Dictionary | None:
        return self.dictionary

    def __iter__(self) -> Iterator[Entry]:
        reader = self.reader()
        entries = reader.entries(self.tally, self.entry_dictionary())
        for piece in self.pieces():
            yield reader.entry(piece, entries)


@attrs.define
class JsonLinesSource(PieceSource):
    """JSON Lines (``.jsonl``, ``.ndjson``): one record per line; blank lines are skipped."""

    path: Path
    dictionary: Dictionary | None = None
    tally: Tally = attrs.field(factory=Tally)
    lazy: bool = False

    def pieces(self) -> Iterator[Piece]:
        name = self.path.name
        with self.path.open("rb", buffering=LINE_BUFFER) as handle:
            for number, raw in enumerate(handle, 1):
                where = f"{name}:{number}"
                try:
                    line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
                except UnicodeDecodeError as error:
                    message = f"line {number} is not UTF-8 text ({error})"
                    yield Piece(where=where, error=message)
                    continue
                if line and not line.isspace():  # not line.strip(): no copy of the line
                    yield Piece(where=where, text=line, prefix=f"line {number}: ")


@attrs.define
class JsonSource(PieceSource):
    """A JSON file holding one record (an object) or a list of records, read one record at a
    time (a list is not loaded whole)."""

    path: Path
    dictionary: Dictionary | None = None
    tally: Tally = attrs.field(factory=Tally)
    lazy: bool = False

    def pieces(self) -> Iterator[Piece]:
        yield from _json_file(self.path, self.path.name)


@attrs.define
class JsonFolderSource(PieceSource):
    """A folder of JSON files (``*.json``, in name order), each one record or a list of them."""

    path: Path
    dictionary: Dictionary | None = None
    tally: Tally = attrs.field(factory=Tally)
    lazy: bool = False

    def pieces(self) -> Iterator[Piece]:
        for file in sorted(self.path.glob("*.json")):
            yield from _json_file(file, file.name, stem=file.stem)


def _json_file(path: Path, name: str, stem: str | None = None) -> Iterator[Piece]:
    """One piece for a file of one record (named ``stem`` when it has no id), one per record of
    a list."""
    try:
        handle = path.open("r", encoding="utf-8-sig")
    except OSError as error:
        yield Piece(where=name, error=f"cannot be read: {error.strerror or error}", error_id=stem)
        return
    with handle:
        try:
            first = _first_character(handle)
            if first == "[":
                yield from _array(handle, name)
                return
            text = first + handle.read()
        except UnicodeDecodeError as error:
            yield Piece(where=name, error=f"not UTF-8 text ({error})", error_id=stem)
            return
        yield Piece(where=name, text=text, fallback=stem)


def _first_character(handle: IO[str]) -> str:
    while True:
        character = handle.read(1)
        if not character or not character.isspace():
            return character


def _array(handle: IO[str], name: str) -> Iterator[Piece]:
    """The records of a JSON array, decoded one at a time from a buffer read in chunks."""
    buffer, position, index = "", 0, 0
    at_end = False
    expect_value = True  # after `[` or `,`; else after a value: `,` or `]`

    def more() -> bool:
        nonlocal buffer, position, at_end
        if at_end:
            return False
        chunk = handle.read(max(_CHUNK, len(buffer) - position))
        at_end = not chunk
        buffer, position = buffer[position:] + chunk, 0
        return bool(chunk)

    def fail(message: str) -> Piece:
        where = f"{name}[{index}]"
        message += f"; the rest of the file (from record {index}) cannot be read"
        return Piece(where=where, error=message, error_id=where)

    try:
        while True:
            while position < len(buffer) and buffer[position].isspace():
                position += 1
            if position >= len(buffer):
                if not more():
                    yield fail("the list is not closed with `]` (the file is truncated)")
                    return
                continue
            character = buffer[position]
            if character == "]" and (expect_value is False or index == 0):
                return  # anything after the list is ignored
            if not expect_value:
                if character != ",":
                    yield fail(f"not valid JSON: expected `,` or `]`, found {character!r}")
                    return
                position += 1
                expect_value = True
                continue
            try:
                data, end = _DECODER.raw_decode(buffer, position)
            except (ValueError, RecursionError) as error:
                if more():
                    continue  # the record may run on into the next chunk
                message = _decode_error(error) if isinstance(error, ValueError) else str(error)
                yield fail(message)
                return
            position = end
            expect_value = False
            where = f"{name}[{index}]"
            yield Piece(where=where, data=data, fallback=where)
            index += 1
    except UnicodeDecodeError as error:
        yield fail(f"not UTF-8 text ({error})")


# ---- CSV ------------------------------------------------------------------------------------------

_TRUE = frozenset({"true", "yes", "y", "1"})
_FALSE = frozenset({"false", "no", "n", "0"})
_NONE = frozenset({"no", "none", "false", "n", "0"})
_UNKNOWN = frozenset({"unknown", "?", "unk", "n/a"})
_SUFFIXES = ("unit", "date", "high", "low", "end", "status")
_QUANTITY_CELL = re.compile(r"\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(.*?)\s*")
_SECTION_COLUMNS = {"events": "events", "treatments": "events", "procedures": "events"}
_SECTION_COLUMNS |= {"medications": "events", "conditions": "conditions"}


@attrs.frozen(kw_only=True)
class _Column:
    """What one CSV column holds: its role and, for a variable, which one and its companions."""

    name: str
    role: str  # id, birth_date, sex, age, date, anchor, lab, fact, boolean, occurrence, list
    unit: str | None = None  # from the header (`ANC [10*9/L]`)
    section: str | None = None  # events or conditions, for occurrences and lists
    key: str | None = None  # `name` or `code` for labs and occurrences
    companions: Mapping[str, int] = attrs.field(factory=dict)  # unit, date, high, ... -> index


def split_header(header: str) -> tuple[str, str | None]:
    """``"ANC [10*9/L]"`` -> ``("ANC", "10*9/L")``; brackets inside the unit (``mm[Hg]``) nest."""
    text = header.strip()
    if not text.endswith("]"):
        return text, None
    depth = 0
    for position in range(len(text) - 1, -1, -1):
        if text[position] == "]":
            depth += 1
        elif text[position] == "[":
            depth -= 1
            if depth == 0:
                name = text[:position].strip()
                return (name, text[position + 1 : -1].strip() or None) if name else (text, None)
    return text, None


def _plan_columns(
    header: list[str], dictionary: Dictionary, tally: Tally
) -> tuple[list[tuple[int, _Column]], list[str]]:
    """Each column's role, and the header's problems (repeated or unusable names)."""
    names = [split_header(cell) for cell in header]
    by_name: dict[str, int] = {}
    problems: list[str] = []
    for index, (name, _) in enumerate(names):
        key = name.casefold()
        if key in by_name:
            problems.append(
                f"column {name!r} appears twice (columns {by_name[key] + 1} and {index + 1})"
            )
        by_name.setdefault(key, index)
    companions: dict[int, dict[str, int]] = {}
    owned: set[int] = set()
    for index, (name, _) in enumerate(names):
        base, underscore, suffix = name.rpartition("_")
        if underscore and suffix.casefold() in _SUFFIXES and base.casefold() in by_name:
            owner = by_name[base.casefold()]
            companions.setdefault(owner, {})[suffix.casefold()] = index
            owned.add(index)
    columns: list[tuple[int, _Column]] = []
    for index, (name, unit) in enumerate(names):
        if index in owned or by_name[name.casefold()] != index or not name:
            continue
        column = _column(name, unit, dictionary, companions.get(index, {}))
        if column.role == "fact" and dictionary.lookup(name) is None:
            tally.note(f"column {name} (not in the dictionary; read as a fact)")
        columns.append((index, column))
    return columns, problems


def _column(
    name: str, unit: str | None, dictionary: Dictionary, companions: dict[str, int]
) -> _Column:
    folded = name.casefold()
    if folded in ("id", "birth_date", "sex", "age", "date"):
        return _Column(name=folded, role=folded, unit=unit, companions=companions)
    for prefix in ("anchors.", "anchor."):
        if folded.startswith(prefix):
            return _Column(name=name[len(prefix) :], role="anchor")
    if folded in dictionary.anchors:
        return _Column(name=folded, role="anchor")
    if folded in _SECTION_COLUMNS:
        return _Column(name=folded, role="list", section=_SECTION_COLUMNS[folded])
    key = "code" if ":" in name else "name"
    variables = dictionary.by_code(name) if key == "code" else ()
    variable = dictionary.lookup(name) if key == "name" else (variables[0] if variables else None)
    if key == "code" and variable is not None and variable.kind == "fact":
        name, key = variable.name, "name"  # facts are kept by name
    if variable is not None and variable.is_occurrence:
        section = "conditions" if variable.kind == CONDITION else "events"
        return _Column(
            name=name, role="occurrence", section=section, key=key, companions=companions
        )
    if key == "code" or (variable is not None and variable.kind == "lab"):
        return _Column(name=name, role="lab", unit=unit, key=key, companions=companions)
    if variable is not None and variable.value_type == "boolean":
        return _Column(name=name, role="boolean", companions=companions)
    return _Column(name=name, role="fact", unit=unit, companions=companions)


@attrs.define
class CsvSource(PieceSource):
    """A CSV file with a header row and one row per patient (docs/data.md, "CSV and JSON").

    ``dictionary`` (the trial's, or the standard one) says which columns are labs, facts,
    conditions, treatments and anchors.
    """

    path: Path
    dictionary: Dictionary | None = None
    tally: Tally = attrs.field(factory=Tally)
    lazy: bool = False
    _plan: PieceReader | None = attrs.field(default=None, init=False, repr=False)

    def reader(self) -> PieceReader:
        """The column plan, from the header (read once)."""
        if self._plan is None:
            from critlang.semantics.dictionary import standard

            dictionary = self.dictionary if self.dictionary is not None else standard()
            header: list[str] = []
            try:
                with self._open() as handle:
                    header = next(csv.reader(handle), [])
            except (OSError, csv.Error):
                pass  # pieces() says what is wrong, in order
            columns, problems = _plan_columns(header, dictionary, self.tally)
            self._plan = PieceReader(
                columns=tuple(columns),
                provided=frozenset(
                    column.section for _, column in columns if column.section is not None
                ),
                width=len(header),
                header_problems=tuple(problems),
                lazy=self.lazy,
            )
        return self._plan

    def entry_dictionary(self) -> Dictionary | None:
        return None  # columns are planned from the header: no names to tally per row

    def _open(self) -> IO[str]:
        return self.path.open("r", encoding="utf-8-sig", errors="replace", newline="")

    def pieces(self) -> Iterator[Piece]:
        name = self.path.name
        try:
            handle = self._open()
        except OSError as error:
            yield Piece(where=name, error=f"cannot be read: {error.strerror or error}")
            return
        with handle:
            rows = csv.reader(handle)
            try:
                if next(rows, None) is None:
                    return  # an empty file: no patients
            except csv.Error as error:
                yield Piece(where=f"{name}:1", error=f"the header row cannot be read: {error}")
                return
            line = 1
            while True:
                try:
                    cells = next(rows)
                except StopIteration:
                    return
                except csv.Error as error:
                    where = f"{name}:{rows.line_num}"
                    if rows.line_num == line:  # the reader cannot move past it
                        yield Piece(
                            where=where, error=f"cannot be read as CSV from here on: {error}"
                        )
                        return
                    line = rows.line_num
                    yield Piece(where=where, error=f"row cannot be read as CSV: {error}")
                    continue
                start, line = line + 1, rows.line_num
                if cells and any(cell.strip() for cell in cells):
                    yield Piece(where=f"{name}:{start}", cells=tuple(cells))


def _row_record(
    cells: tuple[str, ...], columns: Iterable[tuple[int, _Column]], provided: frozenset[str]
) -> tuple[dict[str, Any], list[str]]:
    """One row as a native record (SPEC §6), and what in it could not be used."""
    data: dict[str, Any] = {"anchors": {}, "facts": {}, "labs": []}
    sections: dict[str, list[dict[str, Any]] | None] = {
        section: [] for section in ("events", "conditions") if section in provided
    }
    problems: list[str] = []
    default_date = None
    for index, column in columns:
        if column.role == "date":
            default_date = cells[index].strip() or None
    for index, column in columns:
        cell = cells[index].strip()
        role = column.role
        if role in ("id", "birth_date", "sex", "age"):
            if cell:
                data[role] = cell
        elif role == "anchor":
            if cell:
                data["anchors"][column.name] = cell
        elif role == "lab":
            if cell:
                data["labs"].append(_lab(cell, column, cells, default_date))
        elif role == "boolean":
            if cell:
                folded = cell.casefold()
                data["facts"][column.name] = (
                    True if folded in _TRUE else False if folded in _FALSE else cell
                )
        elif role == "fact":
            if cell:
                data["facts"][column.name] = f"{cell} {column.unit}" if column.unit else cell
        elif role in ("occurrence", "list"):
            assert column.section is not None
            found = sections.get(column.section)
            if cell.casefold() in _UNKNOWN:
                if found is not None:
                    problems.append(
                        f"{column.name}: not known, so the patient's {column.section} are not known"
                    )
                sections[column.section] = None
                continue
            if found is None or not cell or cell.casefold() in _NONE:
                continue
            if role == "occurrence":
                found.extend(_occurrences(cell, column, cells))
            else:
                found.extend(_listed(cell, column.name, problems))
    for section, items in sections.items():
        if items is not None:
            data[section] = items
    return data, problems


def _companion(column: _Column, suffix: str, cells: tuple[str, ...]) -> str | None:
    index = column.companions.get(suffix)
    if index is None:
        return None
    return cells[index].strip() or None


def _lab(
    cell: str, column: _Column, cells: tuple[str, ...], default_date: str | None
) -> dict[str, Any]:
    assert column.key is not None
    unit = _companion(column, "unit", cells) or column.unit
    match = _QUANTITY_CELL.fullmatch(cell)
    value: str
    if match is not None:
        value = match.group(1)
        unit = match.group(2) or unit
    else:
        value = cell
    lab: dict[str, Any] = {column.key: column.name, "value": value}
    if match is not None and unit:
        lab["unit"] = unit
    date = _companion(column, "date", cells) or default_date
    if date:
        lab["date"] = date
    for limit in ("high", "low"):
        text = _companion(column, limit, cells)
        if text:
            lab[limit] = text
    return lab


def _occurrences(cell: str, column: _Column, cells: tuple[str, ...]) -> list[dict[str, Any]]:
    """``yes`` (undated), a date, ``START..END``, or several separated by ``;``."""
    assert column.key is not None
    status = _companion(column, "status", cells)
    end = _companion(column, "end", cells)
    items: list[dict[str, Any]] = []
    for part in (piece.strip() for piece in cell.split(";")):
        if not part:
            continue
        item: dict[str, Any] = {column.key: column.name}
        if part.casefold() not in _TRUE:
            # An unreadable date is read_record's to report; the occurrence stays, undated.
            start, dots, until = part.partition("..")
            item["start"] = start.strip()
            if dots and until.strip():
                item["end"] = until.strip()
            elif end and len(cell.split(";")) == 1:
                item["end"] = end
        if status:
            item["status"] = status
        items.append(item)
    return items


def _listed(cell: str, name: str, problems: list[str]) -> list[dict[str, Any]]:
    """``chemotherapy@2025-03-01..2025-04-20; ICD10:C34.1@2024-01-10 active``."""
    items: list[dict[str, Any]] = []
    for part in (piece.strip() for piece in cell.split(";")):
        if not part:
            continue
        what, _, status = part.partition(" ")
        concept, at, dates = what.partition("@")
        if not concept:
            problems.append(f"{name}: {part!r} names nothing")
            continue
        item: dict[str, Any] = {"code" if ":" in concept else "name": concept}
        if at:
            start, _, until = dates.partition("..")
            item["start"] = start
            if until:
                item["end"] = until
        if status.strip():
            item["status"] = status.strip()
        items.append(item)
    return items


__all__ = [
    "CsvSource",
    "JsonFolderSource",
    "JsonLinesSource",
    "JsonSource",
    "Piece",
    "PieceReader",
    "PieceSource",
    "split_header",
]
