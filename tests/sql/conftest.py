"""The SQL backend's tests need sqlglot and DuckDB (the ``sql`` extra)."""

from __future__ import annotations

import pytest

pytest.importorskip("sqlglot", reason="the SQL backend needs sqlglot: pip install 'critlang[sql]'")
pytest.importorskip("duckdb", reason="running the SQL needs duckdb: pip install 'critlang[sql]'")
