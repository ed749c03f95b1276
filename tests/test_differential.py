"""Two independent implementations agree: critlang and the hand-written functions of
``benchmarks/baselines.py`` give the same outcome for every criterion of randomly altered example
records. The baselines do not check plausible ranges, so criteria that critlang leaves UNKNOWN for
an implausible value are not compared."""

from __future__ import annotations

import copy
import json
import sys
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import critlang
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import baselines

EXAMPLES = ROOT / "examples"
TRIALS = {path.stem: critlang.load(path) for path in sorted(EXAMPLES.glob("*.crit"))}
RECORDS = {
    stem: [
        json.loads(path.read_text(encoding="utf-8"))
        for path in sorted((EXAMPLES / stem / "records").glob("*.json"))
    ]
    for stem in TRIALS
}

DATES = [
    "2025-06-03",
    "2025-03-02",
    "2025-03-01",
    "2025-06-18",
    "2025-06-20",
    "2025-06-21",
    "2024-12-01",
    "2025-05-31",
    "2025-06-01",
    "2025-06-02",
    "2025-05-10",
]
FACT_VALUES = [None, True, False, 0, 1, 2, 3, "24 wk", "2 wk", "extensive", "limited", 1.5]
LAB_FACTORS = [1, 2, 0.5]


@st.composite
def altered(draw: st.DrawFn, stem: str) -> dict[str, Any]:
    records = RECORDS[stem]
    record = copy.deepcopy(draw(st.sampled_from(records)))
    other = draw(st.sampled_from(records))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(
            st.sampled_from(
                ["fact", "lab", "date", "section", "condition", "event", "anchor", "sex", "status"]
            )
        )
        if kind == "fact" and record.get("facts"):
            record["facts"][draw(st.sampled_from(sorted(record["facts"])))] = draw(
                st.sampled_from(FACT_VALUES)
            )
        elif kind == "lab" and record.get("labs"):
            lab = draw(st.sampled_from(record["labs"]))
            if isinstance(lab.get("value"), int | float):
                lab["value"] = draw(
                    st.sampled_from(
                        [lab["value"] * factor for factor in LAB_FACTORS] + [1.8, 2.4, 10]
                    )
                )
            else:
                lab["value"] = draw(st.sampled_from(["positive", "negative"]))
            if draw(st.booleans()):
                lab["high"] = draw(st.sampled_from([None, 1.2, 40, 20]))
        elif kind == "date" and record.get("labs"):
            draw(st.sampled_from(record["labs"]))["date"] = draw(st.sampled_from(DATES))
        elif kind == "section":
            section = draw(st.sampled_from(["labs", "events", "conditions"]))
            if draw(st.booleans()):
                record.pop(section, None)
            else:
                record[section] = copy.deepcopy(other.get(section, []))
        elif kind == "condition" and other.get("conditions"):
            record.setdefault("conditions", []).append(
                copy.deepcopy(draw(st.sampled_from(other["conditions"])))
            )
        elif kind == "event" and other.get("events"):
            event = copy.deepcopy(draw(st.sampled_from(other["events"])))
            event["start"] = draw(st.sampled_from(DATES))
            event.pop("end", None)
            record.setdefault("events", []).append(event)
        elif kind == "anchor" and record.get("anchors"):
            anchor = draw(st.sampled_from(sorted(record["anchors"])))
            if draw(st.booleans()):
                del record["anchors"][anchor]
            else:
                record["anchors"][anchor] = draw(st.sampled_from(DATES))
        elif kind == "sex":
            record["sex"] = draw(st.sampled_from(["female", "male", None]))
        elif kind == "status" and record.get("conditions"):
            condition = draw(st.sampled_from(record["conditions"]))
            condition["status"] = draw(st.sampled_from([None, "active", "resolved", "remission"]))
            if draw(st.booleans()):
                condition["abatement"] = draw(
                    st.sampled_from(["2025-06-01", "2025-06-02", "2025-06-30"])
                )
    return record


@pytest.mark.parametrize("stem", sorted(TRIALS))
def test_critlang_and_hand_written_baseline_agree(stem: str) -> None:
    trial = TRIALS[stem]
    baseline = getattr(baselines, baselines.FUNCTIONS[stem])

    @settings(max_examples=settings.default.max_examples * 2)
    @given(altered(stem))
    def agree(record: dict[str, Any]) -> None:
        result = trial.evaluate(record)
        theirs = baseline(record)
        for criterion in result.criteria:
            if any("plausible range" in reason for reason in criterion.reasons):
                continue
            assert theirs[criterion.id] == criterion.outcome.value, (
                criterion.id,
                criterion.explain(),
                record,
            )

    agree()
