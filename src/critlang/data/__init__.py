"""Patient data in: the native record (``record``), the cohort interface (``sources``) and its
readers, opened by :func:`open_patients` from a path and an optional format name.

The readers are imported when a format needs them, so that reading one record stays light.
"""

from __future__ import annotations

import re
from pathlib import Path

from critlang.errors import CritlangError

TYPE_CHECKING = False  # not typing's: importing typing costs start-up time (see critlang/__init__)
if TYPE_CHECKING:
    from critlang.data.sources import PatientSource
    from critlang.semantics.dictionary import Dictionary

FORMATS = ("native", "jsonl", "csv", "fhir", "omop")
_RESOURCE_TYPE = re.compile(r'"resourceType"\s*:')
_SNIFF = 65536  # characters read to tell FHIR JSON from native JSON


class DataFormatError(CritlangError):
    """The path does not exist, or its format cannot be told or is not one critlang reads."""


def detect_format(path: str | Path) -> str:
    """The format of ``path``, from its extension and, where that is ambiguous, its content:
    ``.csv`` is CSV; ``.jsonl``/``.ndjson`` FHIR Bulk NDJSON when its first line is a resource,
    else native JSON Lines; ``.json`` a FHIR Bundle (or resource) when it has ``resourceType``,
    else native; ``.duckdb`` and ``.db`` OMOP; a folder OMOP when it holds ``person.csv``, FHIR when
    its JSON or NDJSON files hold resources, else native (a folder of JSON files)."""
    target = Path(path)
    if target.is_dir():
        return _folder_format(target)
    if not target.exists():
        raise DataFormatError(f"{target}: no such file or folder")
    suffix = target.suffix.casefold()
    if suffix == ".csv":
        return "omop" if target.name.casefold() == "person.csv" else "csv"
    if suffix in (".duckdb", ".db"):
        return "omop"
    if suffix in (".jsonl", ".ndjson"):
        return "fhir" if _first_line_is_resource(target) else "jsonl"
    if suffix == ".json":
        return "fhir" if _is_resource(_head(target)) else "native"
    head = _head(target).lstrip()
    if head.startswith(("{", "[")):
        return "fhir" if _is_resource(head) else "native"
    raise DataFormatError(
        f"{target}: cannot tell the format from the name; give --format ({'|'.join(FORMATS)})"
    )


def open_patients(
    path: str | Path,
    format: str | None = None,
    dictionary: Dictionary | None = None,
    *,
    lazy: bool = False,
) -> PatientSource:
    """The patients in ``path``, one entry each, read one at a time (see :mod:`.sources`).

    ``format`` is ``native`` (a JSON record, a list of them, or a folder of JSON files), ``jsonl``,
    ``csv``, ``fhir`` or ``omop``; without it, :func:`detect_format` tells. ``dictionary`` (the
    trial's) maps names and codes to variables; the standard dictionary when None. ``lazy``
    (what a screen asks for) reads the native forms' lab entries only when a criterion asks for
    them (``read_record(data, lazy=True)``): the problems of entries never asked for are then not
    known. The FHIR and OMOP readers read everything either way.
    """
    target = Path(path)
    if not target.exists():
        raise DataFormatError(f"{target}: no such file or folder")
    chosen = (format or detect_format(target)).casefold()
    if chosen == "json":
        chosen = "native"
    if chosen == "native" and target.suffix.casefold() in (".jsonl", ".ndjson"):
        chosen = "jsonl"
    if chosen == "native":
        from critlang.data.tabular import JsonFolderSource, JsonSource

        if target.is_dir():
            return JsonFolderSource(target, dictionary, lazy=lazy)
        return JsonSource(target, dictionary, lazy=lazy)
    if chosen == "jsonl":
        from critlang.data.tabular import JsonLinesSource

        return JsonLinesSource(_file(target, "jsonl"), dictionary, lazy=lazy)
    if chosen == "csv":
        from critlang.data.tabular import CsvSource

        return CsvSource(_file(target, "csv"), dictionary, lazy=lazy)
    if chosen == "fhir":
        from critlang.data.fhir import read_fhir

        return read_fhir(target, dictionary=dictionary)
    if chosen == "omop":
        from critlang.data.omop import read_omop

        if target.is_file() and target.suffix.casefold() == ".csv":
            target = target.parent  # person.csv: its folder of OMOP tables
        return read_omop(target, dictionary=dictionary)
    raise DataFormatError(f"unknown format {format!r}: use one of {', '.join(FORMATS)}")


def _file(path: Path, format: str) -> Path:
    if path.is_dir():
        raise DataFormatError(f"{path}: a folder; --format {format} reads one file")
    return path


def _folder_format(folder: Path) -> str:
    if any(file.name.casefold() == "person.csv" for file in folder.glob("*.[cC][sS][vV]")):
        return "omop"
    if any(folder.glob("*.ndjson")):
        return "fhir"
    for file in sorted(folder.glob("*.json"))[:3]:
        if _is_resource(_head(file)):
            return "fhir"
    return "native"


def _head(path: Path) -> str:
    try:
        with path.open("r", encoding="utf-8-sig", errors="replace") as handle:
            return handle.read(_SNIFF)
    except OSError as error:
        raise DataFormatError(f"{path}: cannot be read: {error.strerror or error}") from None


def _first_line_is_resource(path: Path) -> bool:
    for line in _head(path).splitlines():
        if line.strip():
            return _is_resource(line)
    return False


def _is_resource(text: str) -> bool:
    return _RESOURCE_TYPE.search(text) is not None


__all__ = ["FORMATS", "DataFormatError", "detect_format", "open_patients"]
