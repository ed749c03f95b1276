"""Benchmark ``critlang sql``: the compiled query run by DuckDB, against a hand-written DuckDB query
of the same criteria and against the in-memory evaluator, on a generated OMOP CDM 5.4 database.

What it measures, for cohorts of 100,000 and 1,000,000 persons (``--quick``: 10,000) screened with
the seed trial NCT07480213 (labs with units and ``x ULN``, conditions, drugs through ATC classes,
procedures, ``age_at(consent)``):

- critlang: ``critlang.sql.run_duckdb(trial, database, as_of, anchors=...)``: open the database,
  compile the query (with the units the export uses), run it, one ``SqlRow`` per person;
- hand-written: ``HAND_WRITTEN`` below, a plain DuckDB query over the same typed tables, written
  as an analyst would (concept sets by code, ``concept_ancestor`` for the ATC classes, the latest
  result per lab with ``QUALIFY``), made three-valued like critlang (NULL is UNKNOWN: a missing
  result, a unit it cannot convert, an implausible value, a missing ULN, a fact the OMOP tables
  do not hold), fetched whole;
- in-memory: ``read_omop(database)`` and ``Trial.evaluate(record, evidence=False)`` per person.

Each runs in its own fresh interpreter (DuckDB is embedded, so its memory is the process's):
wall time, persons per second, and the peak resident set size. Then every person's verdict and
every criterion's outcome are compared between critlang and the hand-written query (and the
in-memory evaluator, where it ran); disagreements are counted and a few printed. The in-memory
evaluator reads the export one person at a time in Python, so it runs only on cohorts of at most
``--memory-persons`` (100,000); a larger cohort is compared with the rate measured on the largest
cohort it ran on, and the output says so.

The database is generated with DuckDB SQL from ``range()``: ~20 measurements per person (the labs
the trial reads, with LOINC concepts, UCUM units, some in other units, a few without a unit or with
a value ten thousand times too large, some bounds such as ``< 20 copies/mL``, dates over eight
years, some after screening), conditions (SNOMED CT, with their ICD-10-CM source codes), drug
exposures (RxNorm ingredients, classed by ATC through ``concept_ancestor`` and
``concept_relationship``), procedures (CPT-4), deaths and observation periods, and the vocabulary
tables, with the primary keys OHDSI's DDL declares (``--no-keys``: without them; critlang's
query then keeps what orders rows that share an id). Draws are hashes of (row, salt, seed), not ``random()``: ``setseed`` does not make
``random()`` reproducible row by row when DuckDB runs on several threads, and the same seed must
give the same database. Concept ids are local ones (above 2,000,000,000) except the few the CDM
fixes (gender, operators, type); the codes are real LOINC, UCUM, SNOMED CT, ICD-10-CM, RxNorm,
ATC and CPT-4 codes, checked against the trial's dictionary before anything runs.

``--profile`` writes DuckDB's JSON profile of critlang's query during its measured run and prints
where the time goes: per common table expression and the costliest operators. ``--memory-limit``
sets DuckDB's ``memory_limit`` for every run (``run_duckdb`` takes no DuckDB settings, so the
child process wraps ``duckdb.connect``; that also puts DuckDB's spill files in the benchmark's
temporary folder, deleted at the end with the databases).

It is a benchmark, not a test: it prints what it measured and never fails on timing.

    python benchmarks/sql.py                      # 100,000 and 1,000,000 persons
    python benchmarks/sql.py --quick              # a smoke run: 10,000 persons
    python benchmarks/sql.py --persons 200000     # other sizes
    python benchmarks/sql.py --profile --memory-limit 10GB   # where the time goes; DuckDB capped
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from critlang.trial import Trial

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from process_memory import peak_kb, rss_kb  # noqa: E402  (the benchmarks' folder, just added)

TRIAL = ROOT / "examples" / "NCT07480213.crit"
AS_OF = datetime.date(2025, 6, 2)
ANCHORS = {"consent": datetime.date(2025, 5, 26)}
SEED = 20250602

# ---- the vocabulary ------------------------------------------------------------------------------

# Concept ids the CDM fixes (and critlang's OMOP reader reads): gender, operators, type.
MALE, FEMALE, EQUALS, LESS_THAN, EHR = 8507, 8532, 4172703, 4171756, 32817
FIXED_CONCEPTS = [
    (MALE, "MALE", "Gender", "Gender", "Gender", "S", "M"),
    (FEMALE, "FEMALE", "Gender", "Gender", "Gender", "S", "F"),
    (EQUALS, "=", "Meas Value Operator", "SNOMED", "Qualifier Value", "S", "276136004"),
    (LESS_THAN, "<", "Meas Value Operator", "SNOMED", "Qualifier Value", "S", "276139006"),
    (EHR, "EHR", "Type Concept", "Type Concept", "Type Concept", "S", "OMOP4976890"),
]
LOCAL = 2_000_000_000  # OMOP's range for local concepts

# lab key: (LOINC code, name, dictionary variable the trial reads it as, or None)
LABS = {
    "ECOG": ("89247-1", "ECOG Performance Status score", "ECOG"),
    "ANC": ("751-8", "Neutrophils [#/volume] in Blood by Automated count", "ANC"),
    "PLT": ("777-3", "Platelets [#/volume] in Blood by Automated count", "platelets"),
    "CRCL": (
        "2164-2",
        "Creatinine renal clearance in 24 hour Urine and Serum or Plasma",
        "creatinine_clearance",
    ),
    "AST": (
        "1920-8",
        "Aspartate aminotransferase [Enzymatic activity/volume] in Serum or Plasma",
        "AST",
    ),
    "ALT": (
        "1742-6",
        "Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma",
        "ALT",
    ),
    "BILI": ("1975-2", "Bilirubin.total [Mass/volume] in Serum or Plasma", "bilirubin"),
    "HCG": (
        "2106-3",
        "Choriogonadotropin (pregnancy test) [Presence] in Urine",
        "pregnancy_test",
    ),
    "HIV_RNA": ("20447-9", "HIV 1 RNA [#/volume] (viral load) in Serum or Plasma", "HIV_RNA"),
    "HBV_DNA": (
        "42595-9",
        "Hepatitis B virus DNA [Units/volume] (viral load) in Serum or Plasma",
        "HBV_DNA",
    ),
    "HCV_RNA": (
        "11011-4",
        "Hepatitis C virus RNA [Units/volume] (viral load) in Serum or Plasma",
        "HCV_RNA",
    ),
    "HGB": ("718-7", "Hemoglobin [Mass/volume] in Blood", "hemoglobin"),
    "WBC": ("6690-2", "Leukocytes [#/volume] in Blood by Automated count", "WBC"),
    "SODIUM": ("2951-2", "Sodium [Moles/volume] in Serum or Plasma", "sodium"),
    "CREAT": ("2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "creatinine"),
}
UNITS = {
    "10*9/L": "billion per liter",
    "/uL": "per microliter",
    "10*3/uL": "thousand per microliter",
    "mL/min": "milliliter per minute",
    "U/L": "unit per liter",
    "[IU]/L": "international unit per liter",
    "mg/dL": "milligram per deciliter",
    "umol/L": "micromole per liter",
    "{copies}/mL": "copies per milliliter",
    "[IU]/mL": "international unit per milliliter",
    "g/dL": "gram per deciliter",
    "g/L": "gram per liter",
    "mmol/L": "millimole per liter",
}
ANSWERS = {"NEGATIVE": ("260385009", "Negative"), "POSITIVE": ("10828004", "Positive")}

# condition key: (salt, share of persons, SNOMED CT code and name (None: the ETL left the source
# code unmapped), ICD-10-CM code and name, can resolve, dictionary variable the trial reads)
CONDITIONS = {
    "SCLC": (101, 0.30, ("254632001", "Small cell carcinoma of lung"),
             ("C34.90", "Malignant neoplasm of unspecified part of unspecified bronchus or lung"),
             False, "sclc"),
    "NSCLC": (102, 0.20, ("254637007", "Non-small cell lung cancer"),
              ("C34.10", "Malignant neoplasm of upper lobe, unspecified bronchus or lung"),
              False, "nsclc"),
    "CNS": (103, 0.08, ("94225005", "Secondary malignant neoplasm of brain"),
            ("C79.31", "Secondary malignant neoplasm of brain"), False, "cns_metastases"),
    "LEPTO": (104, 0.01, None, ("C79.32", "Secondary malignant neoplasm of cerebral meninges"),
              False, "leptomeningeal_disease"),
    "GVHD": (105, 0.005, ("234646005", "Graft-versus-host disease"),
             ("D89.811", "Chronic graft-versus-host disease"), True, "graft_versus_host_disease"),
    "HIV": (106, 0.01, ("86406008", "Human immunodeficiency virus infection"),
            ("B20", "Human immunodeficiency virus [HIV] disease"), False, "HIV_infection"),
    "HBV": (107, 0.015, ("66071002", "Viral hepatitis type B"),
            ("B18.1", "Chronic viral hepatitis B without delta-agent"), True, "hepatitis_b"),
    "HCV": (108, 0.015, ("50711007", "Viral hepatitis type C"),
            ("B18.2", "Chronic viral hepatitis C"), True, "hepatitis_c"),
    "TB": (109, 0.003, ("56717001", "Tuberculosis"), ("A15.0", "Tuberculosis of lung"), True,
           "active_tuberculosis"),
    "HTN": (110, 0.35, ("38341003", "Hypertensive disorder, systemic arterial"),
            ("I10", "Essential (primary) hypertension"), False, None),
    "T2DM": (111, 0.15, ("44054006", "Diabetes mellitus type 2"),
             ("E11.9", "Type 2 diabetes mellitus without complications"), False, None),
    "COPD": (112, 0.12, ("13645005", "Chronic obstructive lung disease"),
             ("J44.9", "Chronic obstructive pulmonary disease, unspecified"), True, None),
}  # fmt: skip

# drug: (RxNorm ingredient code, its ATC classes from the 1st level to the 5th)
DRUGS = {
    "cisplatin": ("2555", ("L", "L01", "L01X", "L01XA", "L01XA01")),
    "carboplatin": ("40048", ("L", "L01", "L01X", "L01XA", "L01XA02")),
    "etoposide": ("4179", ("L", "L01", "L01C", "L01CB", "L01CB01")),
    "topotecan": ("57308", ("L", "L01", "L01C", "L01CE", "L01CE01")),
    "irinotecan": ("51499", ("L", "L01", "L01C", "L01CE", "L01CE02")),
    "atezolizumab": ("1792776", ("L", "L01", "L01F", "L01FF", "L01FF05")),
    "durvalumab": ("1919503", ("L", "L01", "L01F", "L01FF", "L01FF03")),
    "pembrolizumab": ("1547545", ("L", "L01", "L01F", "L01FF", "L01FF02")),
    "osimertinib": ("1721560", ("L", "L01", "L01E", "L01EB", "L01EB04")),
    "metformin": ("6809", ("A", "A10", "A10B", "A10BA", "A10BA02")),
    "lisinopril": ("29046", ("C", "C09", "C09A", "C09AA", "C09AA03")),
    "atorvastatin": ("83367", ("C", "C10", "C10A", "C10AA", "C10AA05")),
    "amoxicillin": ("723", ("J", "J01", "J01C", "J01CA", "J01CA04")),
    "prednisone": ("8640", ("H", "H02", "H02A", "H02AB", "H02AB07")),
}
# courses: (drug, who (a condition key, or ALL), share of them, cycles, days between, days each)
COURSES = [
    ("cisplatin", "SCLC", 0.40, 4, 21, 1),
    ("carboplatin", "SCLC", 0.40, 4, 21, 1),
    ("etoposide", "SCLC", 0.75, 4, 21, 3),
    ("atezolizumab", "SCLC", 0.30, 3, 21, 1),
    ("durvalumab", "SCLC", 0.10, 3, 28, 1),
    ("topotecan", "SCLC", 0.15, 2, 21, 5),
    ("carboplatin", "NSCLC", 0.35, 4, 21, 1),
    ("cisplatin", "NSCLC", 0.20, 4, 21, 1),
    ("pembrolizumab", "NSCLC", 0.40, 3, 21, 1),
    ("osimertinib", "NSCLC", 0.10, 1, 0, 90),
    ("irinotecan", "ALL", 0.01, 2, 14, 1),
    ("metformin", "T2DM", 0.80, 3, 90, 90),
    ("lisinopril", "HTN", 0.80, 3, 90, 90),
    ("atorvastatin", "ALL", 0.30, 3, 90, 90),
    ("amoxicillin", "ALL", 0.20, 1, 0, 10),
    ("prednisone", "ALL", 0.08, 1, 0, 14),
]
# procedure: (CPT-4 code, name, share of persons, days back at most, dictionary variable or None)
PROCEDURES = {
    "CAR_T": ("0540T", "Chimeric antigen receptor T-cell (CAR-T) therapy; CAR-T cell "
              "administration, autologous", 0.003, 900, "car_t_therapy"),
    "ALLO_HSCT": ("38240", "Hematopoietic progenitor cell (HPC); allogeneic transplantation per "
                  "donor", 0.003, 900, "allogeneic_stem_cell_transplant"),
    "CT_CHEST": ("71250", "Computed tomography, thorax, diagnostic; without contrast material",
                 0.30, 1800, None),
    "ECHO": ("93306", "Echocardiography, transthoracic, real-time with image documentation (2D)",
             0.15, 1800, None),
}  # fmt: skip


def vocabulary() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The rows of ``concept``, ``concept_relationship`` and ``concept_ancestor``."""
    concepts: list[tuple[Any, ...]] = []
    ids: dict[tuple[str, str], int] = {}

    def add(name: str, domain: str, vocabulary: str, klass: str, code: str, standard: str) -> int:
        key = (vocabulary, code)
        if key not in ids:
            ids[key] = LOCAL + len(ids) + 1
            concepts.append((ids[key], name, domain, vocabulary, klass, standard, code))
        return ids[key]

    for loinc, name, _ in LABS.values():
        add(name, "Measurement", "LOINC", "Lab Test", loinc, "S")
    for code, name in UNITS.items():
        add(name, "Unit", "UCUM", "Unit", code, "S")
    for code, name in ANSWERS.values():
        add(name, "Meas Value", "SNOMED", "Qualifier Value", code, "S")
    relationships: list[tuple[Any, ...]] = []
    for _, _, snomed, icd, _, _ in CONDITIONS.values():
        source = add(icd[1], "Condition", "ICD10CM", "4-char billing code", icd[0], "")
        if snomed is not None:
            target = add(snomed[1], "Condition", "SNOMED", "Clinical Finding", snomed[0], "S")
            relationships += [(source, target, "Maps to"), (target, source, "Mapped from")]
    ancestors: list[tuple[Any, ...]] = []
    for drug, (rxnorm, classes) in DRUGS.items():
        ingredient = add(drug, "Drug", "RxNorm", "Ingredient", rxnorm, "S")
        ancestors.append((ingredient, ingredient, 0, 0))
        for level, atc in enumerate(classes, start=1):
            name = drug if level == 5 else f"ATC class {atc}"
            klass = f"ATC {('1st', '2nd', '3rd', '4th', '5th')[level - 1]}"
            atc_id = add(name, "Drug", "ATC", klass, atc, "C")
            ancestors.append((atc_id, ingredient, 6 - level, 6 - level))
        relationships += [
            (ingredient, ids[("ATC", classes[-1])], "RxNorm - ATC pr lat"),
            (ids[("ATC", classes[-1])], ingredient, "ATC - RxNorm pr lat"),
        ]
    for code, name, _, _, _ in PROCEDURES.values():
        add(name, "Procedure", "CPT4", "CPT4", code, "S")
    rows = [(*row, "1970-01-01", "2099-12-31", None) for row in concepts]
    rows += [(*row, "1970-01-01", "2099-12-31", None) for row in FIXED_CONCEPTS]
    links = [(*row, "1970-01-01", "2099-12-31", None) for row in relationships]
    return rows, links, ancestors


def check_codes(trial: Trial) -> list[str]:
    """The generated codes that do not name what the benchmark means them to (none, unless the
    dictionary changed): each is a problem to fix before the numbers mean anything."""
    dictionary = trial.dictionary
    wanted: list[tuple[str, str]] = [
        (f"LOINC:{loinc}", variable) for loinc, _, variable in LABS.values() if variable
    ]
    wanted += [
        (f"{'SNOMED' if snomed else 'ICD10CM'}:{snomed[0] if snomed else icd[0]}", variable)
        for _, _, snomed, icd, _, variable in CONDITIONS.values()
        if variable
    ]
    wanted += [
        (f"ATC:{classes[-1]}", "anticancer_therapy")
        for _, classes in DRUGS.values()
        if classes[1] == "L01"
    ]
    wanted += [("ATC:L01XA01", "platinum_chemotherapy"), ("ATC:L01XA02", "platinum_chemotherapy")]
    wanted += [
        (f"CPT:{code}", variable) for code, _, _, _, variable in PROCEDURES.values() if variable
    ]
    problems = [
        f"{code} does not name {variable}"
        for code, variable in wanted
        if variable not in dictionary.entry_names(None, code)
    ]
    for name in ("metformin", "lisinopril", "atorvastatin"):
        code = f"ATC:{DRUGS[name][1][-1]}"
        if dictionary.entry_names(None, code):
            problems.append(f"{code} ({name}) names {dictionary.entry_names(None, code)}")
    return problems


# ---- the cohort, generated with DuckDB SQL -------------------------------------------------------


def _values(rows: list[tuple[Any, ...]]) -> str:
    def literal(value: Any) -> str:
        if value is None:
            return "NULL"
        if isinstance(value, str):
            return "'" + value.replace("'", "''") + "'"
        return str(value)

    return ", ".join("(" + ", ".join(literal(value) for value in row) + ")" for row in rows)


# The primary keys OHDSI's DDL for DuckDB declares (OMOPCDM_duckdb_5.4_primary_keys.sql) on the
# tables the cohort has.
PRIMARY_KEYS = {
    "person": "person_id",
    "observation_period": "observation_period_id",
    "visit_occurrence": "visit_occurrence_id",
    "condition_occurrence": "condition_occurrence_id",
    "drug_exposure": "drug_exposure_id",
    "procedure_occurrence": "procedure_occurrence_id",
    "measurement": "measurement_id",
    "observation": "observation_id",
    "concept": "concept_id",
}


def generate(path: Path, persons: int, seed: int = SEED, keys: bool = True) -> dict[str, int]:
    """Write the cohort to a new DuckDB database at ``path``, with the CDM's primary keys unless
    ``keys`` is false; the row count of each table."""
    import duckdb

    concepts, links, ancestors = vocabulary()
    screening = f"DATE '{AS_OF.isoformat()}'"
    lab_rows = [(key, LABS[key][0]) for key in LABS]
    condition_rows = [
        (key, salt, share, snomed[0] if snomed else None, icd[0], resolves)
        for key, (salt, share, snomed, icd, resolves, _) in CONDITIONS.items()
    ]
    course_rows = [
        (index, drug, DRUGS[drug][0], who, share, cycles, gap, days)
        for index, (drug, who, share, cycles, gap, days) in enumerate(COURSES)
    ]
    procedure_rows = [
        (index, code, share, back)
        for index, (code, _, share, back, _) in enumerate(PROCEDURES.values())
    ]
    with duckdb.connect(str(path)) as db:
        db.execute(
            f"CREATE TEMP MACRO u(k, salt) AS (hash(k, salt, {seed}) % 1000000007) / 1000000007.0"
        )
        db.execute(
            "CREATE TABLE concept (concept_id INTEGER, concept_name VARCHAR, domain_id VARCHAR, "
            "vocabulary_id VARCHAR, concept_class_id VARCHAR, standard_concept VARCHAR, "
            "concept_code VARCHAR, valid_start_date DATE, valid_end_date DATE, "
            "invalid_reason VARCHAR)"
        )
        db.execute(f"INSERT INTO concept VALUES {_values(concepts)}")
        db.execute(
            "CREATE TABLE concept_relationship (concept_id_1 INTEGER, concept_id_2 INTEGER, "
            "relationship_id VARCHAR, valid_start_date DATE, valid_end_date DATE, "
            "invalid_reason VARCHAR)"
        )
        db.execute(f"INSERT INTO concept_relationship VALUES {_values(links)}")
        db.execute(
            "CREATE TABLE concept_ancestor (ancestor_concept_id INTEGER, "
            "descendant_concept_id INTEGER, min_levels_of_separation INTEGER, "
            "max_levels_of_separation INTEGER)"
        )
        db.execute(f"INSERT INTO concept_ancestor VALUES {_values(ancestors)}")
        db.execute(
            "CREATE TEMP TABLE codes AS SELECT vocabulary_id AS vocabulary, concept_code AS code, "
            "concept_id AS id FROM concept"
        )
        db.execute(
            "CREATE TEMP TABLE lab_codes (lab VARCHAR, loinc VARCHAR); "
            f"INSERT INTO lab_codes VALUES {_values(lab_rows)}"
        )
        db.execute(
            "CREATE TEMP TABLE condition_kinds (kind VARCHAR, salt INTEGER, share DOUBLE, "
            "snomed VARCHAR, icd VARCHAR, resolves BOOLEAN); "
            f"INSERT INTO condition_kinds VALUES {_values(condition_rows)}"
        )
        db.execute(
            "CREATE TEMP TABLE courses (course INTEGER, drug VARCHAR, rxnorm VARCHAR, who VARCHAR, "
            "share DOUBLE, cycles INTEGER, gap INTEGER, days INTEGER); "
            f"INSERT INTO courses VALUES {_values(course_rows)}"
        )
        db.execute(
            "CREATE TEMP TABLE procedure_kinds (kind INTEGER, code VARCHAR, share DOUBLE, "
            "back INTEGER); "
            f"INSERT INTO procedure_kinds VALUES {_values(procedure_rows)}"
        )
        for statement in _COHORT_SQL.format(
            persons=persons, screening=screening, male=MALE, female=FEMALE, ehr=EHR,
            less_than=LESS_THAN,
        ).split(";\n"):  # fmt: skip
            if statement.strip():
                db.execute(statement)
        for table, column in PRIMARY_KEYS.items() if keys else ():
            db.execute(f"ALTER TABLE {table} ADD PRIMARY KEY ({column})")
        counts = {}
        for (table,) in db.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
            "AND table_catalog = current_database() ORDER BY table_name"
        ).fetchall():
            (counts[table],) = db.execute(f"SELECT count(*) FROM {table}").fetchone() or (0,)
        db.execute("CHECKPOINT")
    return counts


_COHORT_SQL = """
CREATE TABLE person AS
SELECT CAST(i + 1 AS INTEGER) AS person_id,
  CAST(CASE WHEN u(i, 1) < 0.48 THEN {male} WHEN u(i, 1) < 0.995 THEN {female} ELSE 0 END
       AS INTEGER) AS gender_concept_id,
  CAST(year(birth) AS INTEGER) AS year_of_birth,
  CAST(CASE WHEN year_only THEN NULL ELSE month(birth) END AS INTEGER) AS month_of_birth,
  CAST(CASE WHEN year_only THEN NULL ELSE day(birth) END AS INTEGER) AS day_of_birth,
  CASE WHEN year_only THEN NULL ELSE CAST(birth AS TIMESTAMP) END AS birth_datetime,
  0 AS race_concept_id, 0 AS ethnicity_concept_id,
  CAST(NULL AS INTEGER) AS location_id, CAST(NULL AS INTEGER) AS provider_id,
  CAST(NULL AS INTEGER) AS care_site_id, 'P' || CAST(i + 1 AS VARCHAR) AS person_source_value,
  CASE WHEN u(i, 1) < 0.48 THEN 'M' WHEN u(i, 1) < 0.995 THEN 'F' ELSE 'U' END
    AS gender_source_value,
  0 AS gender_source_concept_id, CAST(NULL AS VARCHAR) AS race_source_value,
  0 AS race_source_concept_id, CAST(NULL AS VARCHAR) AS ethnicity_source_value,
  0 AS ethnicity_source_concept_id
FROM (SELECT i, DATE '1930-01-01' + CAST(floor(u(i, 2) * 80 * 365.25) AS INTEGER) AS birth,
             u(i, 3) < 0.01 AS year_only
      FROM range({persons}) AS r(i)) AS drawn;

CREATE TABLE observation_period AS
SELECT person_id AS observation_period_id, person_id,
  {screening} - 3650 AS observation_period_start_date,
  {screening} + 60 AS observation_period_end_date, {ehr} AS period_type_concept_id
FROM person;

CREATE TEMP TABLE person_conditions AS
SELECT p.person_id, k.kind, k.snomed, k.icd, k.resolves,
  p.person_id * 16 + row_number() OVER (PARTITION BY p.person_id ORDER BY k.salt) AS id
FROM person AS p CROSS JOIN condition_kinds AS k
WHERE u(p.person_id, k.salt) < k.share;

CREATE TEMP TABLE traits AS
SELECT p.person_id, p.gender_concept_id = {female} AS female,
  coalesce(bool_or(c.kind = 'SCLC'), FALSE) AS sclc,
  coalesce(bool_or(c.kind = 'NSCLC'), FALSE) AS nsclc,
  coalesce(bool_or(c.kind = 'HTN'), FALSE) AS htn,
  coalesce(bool_or(c.kind = 'T2DM'), FALSE) AS t2dm,
  coalesce(bool_or(c.kind = 'HIV'), FALSE) AS hiv,
  coalesce(bool_or(c.kind = 'HBV'), FALSE) AS hbv,
  coalesce(bool_or(c.kind = 'HCV'), FALSE) AS hcv
FROM person AS p LEFT JOIN person_conditions AS c USING (person_id)
GROUP BY p.person_id, p.gender_concept_id;

CREATE TABLE condition_occurrence AS
SELECT CAST(c.id AS BIGINT) AS condition_occurrence_id, c.person_id,
  CAST(coalesce(s.id, 0) AS INTEGER) AS condition_concept_id,
  c.start AS condition_start_date, CAST(c.start AS TIMESTAMP) AS condition_start_datetime,
  c.stop AS condition_end_date, CAST(c.stop AS TIMESTAMP) AS condition_end_datetime,
  {ehr} AS condition_type_concept_id, 0 AS condition_status_concept_id,
  CAST(NULL AS VARCHAR) AS stop_reason, CAST(NULL AS INTEGER) AS provider_id,
  CAST(NULL AS BIGINT) AS visit_occurrence_id, CAST(NULL AS BIGINT) AS visit_detail_id,
  c.icd AS condition_source_value, CAST(i.id AS INTEGER) AS condition_source_concept_id,
  CASE WHEN u(c.id, 5) < 0.03 THEN 'resolved' END AS condition_status_source_value
FROM (
  SELECT *, CASE WHEN resolves AND u(id, 4) < 0.3
                 THEN start + 30 + CAST(floor(u(id, 6) * 400) AS INTEGER) END AS stop
  FROM (SELECT *, {screening} - CASE WHEN u(id, 2) < 0.04
                                    THEN -1 - CAST(floor(u(id, 3) * 90) AS INTEGER)
                                    ELSE CAST(floor(u(id, 1) * 3650) AS INTEGER) END AS start
        FROM person_conditions) AS dated) AS c
LEFT JOIN codes AS s ON s.vocabulary = 'SNOMED' AND s.code = c.snomed
JOIN codes AS i ON i.vocabulary = 'ICD10CM' AND i.code = c.icd;

CREATE TABLE drug_exposure AS
SELECT CAST(d.person_id * 64 + d.course * 4 + d.cycle AS BIGINT) AS drug_exposure_id, d.person_id,
  CAST(r.id AS INTEGER) AS drug_concept_id,
  d.start AS drug_exposure_start_date, CAST(d.start AS TIMESTAMP) AS drug_exposure_start_datetime,
  CASE WHEN d.open THEN NULL ELSE d.start + d.days - 1 END AS drug_exposure_end_date,
  CASE WHEN d.open THEN NULL ELSE CAST(d.start + d.days - 1 AS TIMESTAMP) END
    AS drug_exposure_end_datetime,
  CAST(NULL AS DATE) AS verbatim_end_date, {ehr} AS drug_type_concept_id,
  CAST(NULL AS VARCHAR) AS stop_reason, CAST(NULL AS INTEGER) AS refills,
  CAST(d.days AS DECIMAL(18, 3)) AS quantity, d.days AS days_supply, CAST(NULL AS VARCHAR) AS sig,
  0 AS route_concept_id, CAST(NULL AS VARCHAR) AS lot_number, CAST(NULL AS INTEGER) AS provider_id,
  CAST(NULL AS BIGINT) AS visit_occurrence_id, CAST(NULL AS BIGINT) AS visit_detail_id,
  d.drug AS drug_source_value, 0 AS drug_source_concept_id,
  CAST(NULL AS VARCHAR) AS route_source_value, CAST(NULL AS VARCHAR) AS dose_unit_source_value
FROM (
  SELECT t.person_id, c.course, c.drug, c.rxnorm, c.days, s.cycle,
    {screening} - CAST(floor(u(t.person_id * 64 + c.course, 2) * 1800) AS INTEGER) + 45
      + CAST(s.cycle * c.gap AS INTEGER) AS start,
    u(t.person_id * 64 + c.course * 4 + s.cycle, 3) < 0.05 AS open
  FROM traits AS t CROSS JOIN courses AS c CROSS JOIN range(4) AS s(cycle)
  WHERE s.cycle < c.cycles
    AND CASE c.who WHEN 'ALL' THEN TRUE WHEN 'SCLC' THEN t.sclc WHEN 'NSCLC' THEN t.nsclc
                   WHEN 'HTN' THEN t.htn WHEN 'T2DM' THEN t.t2dm END
    AND u(t.person_id * 64 + c.course, 1) < c.share) AS d
JOIN codes AS r ON r.vocabulary = 'RxNorm' AND r.code = d.rxnorm;

CREATE TABLE procedure_occurrence AS
SELECT CAST(p.person_id * 8 + p.kind AS BIGINT) AS procedure_occurrence_id, p.person_id,
  CAST(c.id AS INTEGER) AS procedure_concept_id, p.day AS procedure_date,
  CAST(p.day AS TIMESTAMP) AS procedure_datetime, CAST(NULL AS DATE) AS procedure_end_date,
  CAST(NULL AS TIMESTAMP) AS procedure_end_datetime, {ehr} AS procedure_type_concept_id,
  0 AS modifier_concept_id, 1 AS quantity, CAST(NULL AS INTEGER) AS provider_id,
  CAST(NULL AS BIGINT) AS visit_occurrence_id, CAST(NULL AS BIGINT) AS visit_detail_id,
  p.code AS procedure_source_value, 0 AS procedure_source_concept_id,
  CAST(NULL AS VARCHAR) AS modifier_source_value
FROM (
  SELECT t.person_id, k.kind, k.code,
    {screening} + 30 - CAST(floor(u(t.person_id * 8 + k.kind, 2) * k.back) AS INTEGER) AS day
  FROM person AS t CROSS JOIN procedure_kinds AS k
  WHERE u(t.person_id * 8 + k.kind, 1) < k.share) AS p
JOIN codes AS c ON c.vocabulary = 'CPT4' AND c.code = p.code;

CREATE TABLE death AS
SELECT person_id, {screening} + 60 - CAST(floor(u(person_id, 78) * 900) AS INTEGER) AS death_date,
  CAST(NULL AS TIMESTAMP) AS death_datetime, {ehr} AS death_type_concept_id,
  0 AS cause_concept_id, CAST(NULL AS VARCHAR) AS cause_source_value,
  0 AS cause_source_concept_id
FROM person WHERE u(person_id, 77) < 0.005;

CREATE TEMP TABLE lab_draws AS
SELECT person_id, measurement_id, lab,
  {screening} - CASE visit
    WHEN -1 THEN CAST(floor(u(person_id * 4, 30) * 730) AS INTEGER) - 30
    WHEN 0 THEN CAST(floor(u(person_id * 4, 31) * 210) AS INTEGER) - 20
    WHEN 1 THEN 210 + CAST(floor(u(person_id * 4 + 1, 32) * 700) AS INTEGER)
    ELSE 910 + CAST(floor(u(person_id * 4 + 2, 33) * 2000) AS INTEGER) END AS day,
  u(measurement_id, 1) AS v, u(measurement_id, 2) AS w, u(measurement_id, 3) AS x,
  u(measurement_id, 4) < 0.005 AS empty
FROM (
  SELECT t.person_id, CAST(t.person_id * 32 + s.slot AS BIGINT) AS measurement_id,
    CASE WHEN s.slot = 0 THEN 'ECOG'
         WHEN s.slot <= 18 THEN ['ANC', 'PLT', 'CRCL', 'AST', 'ALT', 'BILI'][(s.slot - 1) % 6 + 1]
         WHEN s.slot = 19 THEN CASE WHEN t.female AND u(t.person_id, 19) < 0.8 THEN 'HCG'
                                    ELSE 'HGB' END
         WHEN s.slot = 20 THEN CASE WHEN t.hiv THEN 'HIV_RNA' WHEN t.hbv THEN 'HBV_DNA'
                                    WHEN t.hcv THEN 'HCV_RNA' ELSE 'WBC' END
         ELSE CASE WHEN u(t.person_id, 21) < 0.5 THEN 'SODIUM' ELSE 'CREAT' END END AS lab,
    CASE WHEN s.slot = 0 THEN -1 WHEN s.slot <= 18 THEN (s.slot - 1) // 6 ELSE s.slot % 3 END
      AS visit
  FROM traits AS t CROSS JOIN range(22) AS s(slot)
  WHERE u(t.person_id * 32 + s.slot, 0) < 0.91) AS slots;

CREATE TEMP TABLE lab_values AS
SELECT person_id, measurement_id, lab, day, empty, x,
  CASE
    WHEN lab = 'ECOG' THEN CASE WHEN v < 0.35 THEN 0 WHEN v < 0.75 THEN 1 WHEN v < 0.93 THEN 2
                               ELSE 3 END
    WHEN lab = 'ANC' THEN round(0.2 + 7.0 * v, 2)
      * CASE WHEN w >= 0.70 AND w < 0.85 OR w >= 0.99 THEN 1000 ELSE 1 END
    WHEN lab = 'PLT' THEN round(15 + 435 * v) * CASE WHEN w >= 0.99 THEN 1000 ELSE 1 END
    WHEN lab = 'CRCL' THEN round(20 + 150 * v, 1)
    WHEN lab = 'AST' THEN round(8 + 180 * v * v)
    WHEN lab = 'ALT' THEN round(5 + 200 * v * v)
    WHEN lab = 'BILI' THEN round(0.1 + 2.4 * v * v, 1) * CASE WHEN w < 0.8 THEN 1 ELSE 17.1 END
    WHEN lab = 'HIV_RNA' THEN CASE WHEN x < 0.4 THEN 20 ELSE round(20 + 100000 * v * v * v) END
    WHEN lab = 'HBV_DNA' THEN CASE WHEN x < 0.5 THEN 10 ELSE round(10 + 1000000 * v * v * v) END
    WHEN lab = 'HCV_RNA' THEN CASE WHEN x < 0.5 THEN 15 ELSE round(15 + 1000000 * v * v * v) END
    WHEN lab = 'HGB' THEN round(7 + 10 * v, 1) * CASE WHEN w < 0.85 THEN 1 ELSE 10 END
    WHEN lab = 'WBC' THEN round(1.5 + 12 * v, 1)
    WHEN lab = 'SODIUM' THEN round(126 + 24 * v)
    WHEN lab = 'CREAT' THEN round(0.4 + 2.0 * v, 2) * CASE WHEN w < 0.8 THEN 1 ELSE 88.4 END
  END AS number,
  CASE
    WHEN lab IN ('ECOG', 'HCG') THEN NULL
    WHEN lab = 'ANC' THEN CASE WHEN w < 0.70 OR w >= 0.99 THEN '10*9/L' WHEN w < 0.85 THEN '/uL'
                               WHEN w < 0.98 THEN '10*3/uL' END
    WHEN lab = 'PLT' THEN CASE WHEN w < 0.65 OR w >= 0.99 THEN '10*9/L'
                               WHEN w < 0.98 THEN '10*3/uL' END
    WHEN lab = 'CRCL' THEN CASE WHEN w < 0.99 THEN 'mL/min' END
    WHEN lab = 'AST' THEN CASE WHEN w < 0.96 THEN 'U/L' WHEN w < 0.99 THEN '[IU]/L' END
    WHEN lab = 'ALT' THEN CASE WHEN w < 0.90 THEN 'U/L' WHEN w < 0.99 THEN '[IU]/L' END
    WHEN lab = 'BILI' THEN CASE WHEN w < 0.8 THEN 'mg/dL' ELSE 'umol/L' END
    WHEN lab = 'HIV_RNA' THEN '{{copies}}/mL'
    WHEN lab IN ('HBV_DNA', 'HCV_RNA') THEN '[IU]/mL'
    WHEN lab = 'HGB' THEN CASE WHEN w < 0.85 THEN 'g/dL' ELSE 'g/L' END
    WHEN lab = 'WBC' THEN CASE WHEN w < 0.7 THEN '10*9/L' ELSE '10*3/uL' END
    WHEN lab = 'SODIUM' THEN 'mmol/L'
    WHEN lab = 'CREAT' THEN CASE WHEN w < 0.8 THEN 'mg/dL' ELSE 'umol/L' END
  END AS unit,
  CASE
    WHEN lab = 'ANC' AND w < 0.99 THEN 'x10E3/uL'
    WHEN lab = 'PLT' AND w < 0.99 THEN 'x10E3/uL'
    WHEN lab IN ('CRCL', 'AST', 'ALT') THEN 'see lab'
  END AS unit_missing_text,
  CASE
    WHEN lab = 'ANC' THEN CASE WHEN w >= 0.70 AND w < 0.85 THEN 1800 ELSE 1.8 END
    WHEN lab = 'PLT' THEN 150
    WHEN lab = 'AST' THEN 10
    WHEN lab = 'ALT' THEN 7
    WHEN lab = 'BILI' THEN CASE WHEN w < 0.8 THEN 0.2 ELSE 3 END
    WHEN lab = 'HGB' THEN CASE WHEN w < 0.85 THEN 12 ELSE 120 END
    WHEN lab = 'SODIUM' THEN 135
  END AS low,
  CASE
    WHEN x >= 0.98 AND lab IN ('AST', 'ALT', 'BILI') THEN NULL
    WHEN lab = 'ANC' THEN CASE WHEN w >= 0.70 AND w < 0.85 THEN 7700 ELSE 7.7 END
    WHEN lab = 'PLT' THEN 400
    WHEN lab = 'AST' THEN 40
    WHEN lab = 'ALT' THEN CASE WHEN x < 0.5 THEN 41 ELSE 56 END
    WHEN lab = 'BILI' THEN CASE WHEN w < 0.8 THEN 1.2 ELSE 21 END
    WHEN lab = 'HIV_RNA' THEN 20
    WHEN lab = 'HBV_DNA' THEN 10
    WHEN lab = 'HCV_RNA' THEN 15
    WHEN lab = 'HGB' THEN CASE WHEN w < 0.85 THEN 17.5 ELSE 175 END
    WHEN lab = 'SODIUM' THEN 145
  END AS high,
  CASE WHEN lab = 'HCG' THEN CASE WHEN v < 0.97 THEN '260385009' ELSE '10828004' END END AS answer,
  (lab = 'HIV_RNA' AND x < 0.4) OR (lab IN ('HBV_DNA', 'HCV_RNA') AND x < 0.5) AS bound
FROM lab_draws;

CREATE TABLE measurement AS
SELECT CAST(m.measurement_id AS BIGINT) AS measurement_id, m.person_id,
  CAST(l.id AS INTEGER) AS measurement_concept_id, m.day AS measurement_date,
  CAST(m.day AS TIMESTAMP) + to_seconds(CAST(floor(m.x * 86400) AS BIGINT))
    AS measurement_datetime,
  CAST(NULL AS VARCHAR) AS measurement_time, {ehr} AS measurement_type_concept_id,
  CASE WHEN m.empty THEN NULL WHEN m.bound THEN {less_than} WHEN m.number IS NULL THEN NULL
       ELSE 4172703 END AS operator_concept_id,
  CASE WHEN m.empty THEN NULL ELSE CAST(m.number AS DECIMAL(18, 3)) END AS value_as_number,
  CASE WHEN m.empty THEN NULL ELSE CAST(coalesce(a.id, 0) AS INTEGER) END AS value_as_concept_id,
  CAST(coalesce(u.id, 0) AS INTEGER) AS unit_concept_id,
  CAST(m.low AS DECIMAL(18, 3)) AS range_low, CAST(m.high AS DECIMAL(18, 3)) AS range_high,
  CAST(NULL AS INTEGER) AS provider_id, CAST(NULL AS BIGINT) AS visit_occurrence_id,
  CAST(NULL AS BIGINT) AS visit_detail_id, l.code AS measurement_source_value,
  0 AS measurement_source_concept_id,
  coalesce(m.unit, m.unit_missing_text) AS unit_source_value, 0 AS unit_source_concept_id,
  CASE WHEN m.empty THEN NULL
       WHEN a.id IS NOT NULL THEN CASE m.answer WHEN '260385009' THEN 'Negative' ELSE 'Positive' END
       ELSE CAST(CAST(m.number AS DECIMAL(18, 3)) AS VARCHAR) END AS value_source_value,
  CAST(NULL AS BIGINT) AS measurement_event_id, 0 AS meas_event_field_concept_id
FROM lab_values AS m
JOIN lab_codes AS k ON k.lab = m.lab
JOIN codes AS l ON l.vocabulary = 'LOINC' AND l.code = k.loinc
LEFT JOIN codes AS u ON u.vocabulary = 'UCUM' AND u.code = m.unit
LEFT JOIN codes AS a ON a.vocabulary = 'SNOMED' AND a.code = m.answer;

CREATE TABLE observation (observation_id BIGINT, person_id INTEGER,
  observation_concept_id INTEGER, observation_date DATE, observation_datetime TIMESTAMP,
  observation_type_concept_id INTEGER, value_as_number DECIMAL(18, 3), value_as_string VARCHAR,
  value_as_concept_id INTEGER, qualifier_concept_id INTEGER, unit_concept_id INTEGER,
  provider_id INTEGER, visit_occurrence_id BIGINT, visit_detail_id BIGINT,
  observation_source_value VARCHAR, observation_source_concept_id INTEGER,
  unit_source_value VARCHAR, qualifier_source_value VARCHAR, value_source_value VARCHAR,
  observation_event_id BIGINT, obs_event_field_concept_id INTEGER);

CREATE TABLE visit_occurrence (visit_occurrence_id BIGINT, person_id INTEGER,
  visit_concept_id INTEGER, visit_start_date DATE, visit_start_datetime TIMESTAMP,
  visit_end_date DATE, visit_end_datetime TIMESTAMP, visit_type_concept_id INTEGER,
  provider_id INTEGER, care_site_id INTEGER, visit_source_value VARCHAR,
  visit_source_concept_id INTEGER, admitted_from_concept_id INTEGER,
  admitted_from_source_value VARCHAR, discharged_to_concept_id INTEGER,
  discharged_to_source_value VARCHAR, preceding_visit_occurrence_id BIGINT)
"""

# ---- the hand-written query ----------------------------------------------------------------------

# NCT07480213 screened by hand over the typed OMOP tables, as an analyst would write it for DuckDB.
# Three-valued like critlang: a criterion is TRUE, FALSE or NULL (UNKNOWN), and SQL's AND, OR and
# NOT are Kleene on NULL; the facts the OMOP tables do not hold are NULL for everyone.
HAND_WRITTEN = """
WITH
not_in_omop AS (  -- facts only the site records: UNKNOWN for everyone
  SELECT CAST(NULL AS BOOLEAN) AS histologic_confirmation, CAST(NULL AS BOOLEAN) AS extensive_disease,
    CAST(NULL AS BOOLEAN) AS relapsed_or_refractory, CAST(NULL AS BOOLEAN) AS platinum_contraindicated,
    CAST(NULL AS BOOLEAN) AS measurable_disease, CAST(NULL AS BOOLEAN) AS life_expectancy_12_weeks,
    CAST(NULL AS BOOLEAN) AS childbearing_potential, CAST(NULL AS BOOLEAN) AS cns_metastases_controlled
),
persons AS (
  SELECT person_id,
    CASE gender_concept_id WHEN 8532 THEN 'female' WHEN 8507 THEN 'male' END AS sex,
    coalesce(make_date(year_of_birth, month_of_birth, day_of_birth), CAST(birth_datetime AS DATE))
      AS birth_date
  FROM person
),
lab_codes (lab, loinc) AS (VALUES
  ('ECOG', '89247-1'), ('ANC', '751-8'), ('ANC', '26499-4'), ('ANC', '753-4'),
  ('PLT', '777-3'), ('PLT', '26515-7'), ('CRCL', '2164-2'), ('CRCL', '35591-7'),
  ('AST', '1920-8'), ('AST', '30239-8'), ('ALT', '1742-6'), ('ALT', '1743-4'), ('ALT', '1744-2'),
  ('BILI', '1975-2'), ('BILI', '42719-5'), ('BILI', '14631-6'), ('HCG', '2106-3'), ('HCG', '2118-8'),
  ('HIV_RNA', '20447-9'), ('HBV_DNA', '42595-9'), ('HCV_RNA', '11011-4')
),
lab_concepts AS (
  SELECT c.concept_id, l.lab FROM concept AS c JOIN lab_codes AS l ON l.loinc = c.concept_code
  WHERE c.vocabulary_id = 'LOINC'
),
results AS (  -- a number that is a value (not a bound such as "< 20"), or an answer
  SELECT m.person_id, l.lab, m.measurement_date, m.measurement_id, m.value_as_number AS value,
    u.concept_code AS unit, m.range_high AS uln, lower(a.concept_name) AS answer
  FROM measurement AS m
  JOIN lab_concepts AS l ON l.concept_id = m.measurement_concept_id
  LEFT JOIN concept AS u ON u.concept_id = m.unit_concept_id AND u.vocabulary_id = 'UCUM'
  LEFT JOIN concept AS a ON a.concept_id = m.value_as_concept_id AND m.value_as_number IS NULL
  WHERE (m.value_as_number IS NOT NULL AND coalesce(m.operator_concept_id, 0) IN (0, 4172703))
     OR (m.value_as_number IS NULL AND a.concept_name IS NOT NULL)
),
latest AS (  -- each lab's latest result on or before screening (ECOG, a fact: the latest of all)
  SELECT * FROM results
  WHERE measurement_date <= DATE '{as_of}' OR lab = 'ECOG'
  QUALIFY row_number() OVER (PARTITION BY person_id, lab
                             ORDER BY measurement_date DESC, measurement_id DESC) = 1
),
tests AS (  -- NULL: a unit that does not convert, a value no result can have, no upper limit
  SELECT person_id, lab,
    CASE lab
      WHEN 'ECOG' THEN CASE WHEN unit IS NULL AND value = floor(value) THEN value BETWEEN 0 AND 1 END
      WHEN 'ANC' THEN CASE WHEN unit IN ('10*9/L', '10*3/uL') AND value BETWEEN 0 AND 100 THEN value >= 1
                           WHEN unit = '/uL' AND value BETWEEN 0 AND 100000 THEN value >= 1000 END
      WHEN 'PLT' THEN CASE WHEN unit IN ('10*9/L', '10*3/uL') AND value BETWEEN 0 AND 3000 THEN value >= 75
                           WHEN unit = '/uL' AND value BETWEEN 0 AND 3000000 THEN value >= 75000 END
      WHEN 'CRCL' THEN CASE WHEN unit = 'mL/min' AND value BETWEEN 0 AND 400 THEN value >= 50 END
      WHEN 'AST' THEN CASE WHEN unit IN ('U/L', '[IU]/L') AND value BETWEEN 0 AND 40000
                           THEN value <= 3 * uln END
      WHEN 'ALT' THEN CASE WHEN unit IN ('U/L', '[IU]/L') AND value BETWEEN 0 AND 20000
                           THEN value <= 3 * uln END
      WHEN 'BILI' THEN CASE WHEN unit = 'mg/dL' AND value BETWEEN 0 AND 60 THEN value <= 1.5 * uln
                            WHEN unit = 'umol/L' AND value BETWEEN 0 AND 1026 THEN value <= 1.5 * uln END
      WHEN 'HCG' THEN answer = 'negative'
      WHEN 'HIV_RNA' THEN CASE WHEN unit = '{{copies}}/mL' AND value BETWEEN 0 AND 100000000
                               THEN value > uln END
      WHEN 'HBV_DNA' THEN CASE WHEN unit = '[IU]/mL' AND value BETWEEN 0 AND 10000000000
                               THEN value > uln END
      WHEN 'HCV_RNA' THEN CASE WHEN unit = '[IU]/mL' AND value BETWEEN 0 AND 1000000000
                               THEN value > uln END
    END AS ok
  FROM latest
),
labs AS (
  SELECT person_id,
    bool_or(ok) FILTER (WHERE lab = 'ECOG') AS ecog_0_1,
    bool_or(ok) FILTER (WHERE lab = 'ANC') AS anc_ok, bool_or(ok) FILTER (WHERE lab = 'PLT') AS plt_ok,
    bool_or(ok) FILTER (WHERE lab = 'CRCL') AS crcl_ok, bool_or(ok) FILTER (WHERE lab = 'AST') AS ast_ok,
    bool_or(ok) FILTER (WHERE lab = 'ALT') AS alt_ok, bool_or(ok) FILTER (WHERE lab = 'BILI') AS bili_ok,
    bool_or(ok) FILTER (WHERE lab = 'HCG') AS hcg_negative,
    bool_or(ok) FILTER (WHERE lab = 'HIV_RNA') AS hiv_rna_high,
    bool_or(ok) FILTER (WHERE lab = 'HBV_DNA') AS hbv_dna_high,
    bool_or(ok) FILTER (WHERE lab = 'HCV_RNA') AS hcv_rna_high
  FROM tests GROUP BY person_id
),
condition_codes (condition, vocabulary, code) AS (VALUES
  ('sclc', 'SNOMED', '254632001'), ('cns_metastases', 'SNOMED', '94225005'),
  ('leptomeningeal', 'ICD10CM', 'C79.32'), ('gvhd', 'SNOMED', '234646005'),
  ('hiv', 'SNOMED', '86406008'), ('hepatitis_b', 'SNOMED', '66071002'),
  ('hepatitis_c', 'SNOMED', '50711007'), ('tuberculosis', 'SNOMED', '56717001')
),
condition_concepts AS (
  SELECT c.concept_id, s.condition, s.vocabulary FROM concept AS c
  JOIN condition_codes AS s ON s.vocabulary = c.vocabulary_id AND s.code = c.concept_code
),
active_conditions AS (  -- active at screening: started, not ended, not marked resolved
  SELECT person_id, condition FROM (
    SELECT o.*, k.condition FROM condition_occurrence AS o
    JOIN condition_concepts AS k ON k.concept_id = o.condition_concept_id AND k.vocabulary = 'SNOMED'
    UNION ALL
    SELECT o.*, k.condition FROM condition_occurrence AS o
    JOIN condition_concepts AS k
      ON k.concept_id = o.condition_source_concept_id AND k.vocabulary = 'ICD10CM') AS o
  WHERE (condition_start_date IS NULL OR condition_start_date <= DATE '{as_of}')
    AND (condition_end_date IS NULL OR condition_end_date >= DATE '{as_of}')
    AND coalesce(lower(trim(condition_status_source_value)), '')
        NOT IN ('inactive', 'resolved', 'remission', 'refuted', 'entered-in-error')
),
conditions AS (
  SELECT person_id,
    bool_or(condition = 'sclc') AS sclc, bool_or(condition = 'cns_metastases') AS cns_metastases,
    bool_or(condition = 'leptomeningeal') AS leptomeningeal, bool_or(condition = 'gvhd') AS gvhd,
    bool_or(condition = 'hiv') AS hiv, bool_or(condition = 'hepatitis_b') AS hepatitis_b,
    bool_or(condition = 'hepatitis_c') AS hepatitis_c,
    bool_or(condition = 'tuberculosis') AS tuberculosis
  FROM active_conditions GROUP BY person_id
),
drug_classes (class, atc) AS (VALUES ('anticancer', 'L01'), ('anticancer', 'L02'), ('platinum', 'L01XA')),
drug_concepts AS (  -- the drugs under each ATC class
  SELECT DISTINCT d.class, a.descendant_concept_id AS concept_id
  FROM drug_classes AS d
  JOIN concept AS c ON c.vocabulary_id = 'ATC' AND starts_with(c.concept_code, d.atc)
  JOIN concept_ancestor AS a ON a.ancestor_concept_id = c.concept_id
),
prior_drugs AS (  -- given before screening
  SELECT e.person_id, bool_or(k.class = 'anticancer') AS anticancer, bool_or(k.class = 'platinum') AS platinum
  FROM drug_exposure AS e JOIN drug_concepts AS k ON k.concept_id = e.drug_concept_id
  WHERE e.drug_exposure_start_date < DATE '{as_of}'
  GROUP BY e.person_id
),
procedure_codes (procedure, vocabulary, code) AS (VALUES
  ('car_t', 'CPT4', '38228'), ('car_t', 'CPT4', '0540T'), ('car_t', 'HCPCS', 'Q2041'),
  ('car_t', 'HCPCS', 'Q2042'), ('allogeneic_hsct', 'CPT4', '38240')
),
procedure_concepts AS (
  SELECT c.concept_id, p.procedure FROM concept AS c
  JOIN procedure_codes AS p ON p.vocabulary = c.vocabulary_id AND p.code = c.concept_code
),
recent_procedures AS (  -- in the 6 months before screening (CAR-T products may be drug exposures)
  SELECT person_id, bool_or(procedure = 'car_t') AS car_t,
    bool_or(procedure = 'allogeneic_hsct') AS allogeneic_hsct
  FROM (
    SELECT o.person_id, k.procedure, o.procedure_date AS start_date,
      coalesce(o.procedure_end_date, o.procedure_date) AS end_date
    FROM procedure_occurrence AS o JOIN procedure_concepts AS k ON k.concept_id = o.procedure_concept_id
    UNION ALL
    SELECT e.person_id, k.procedure, e.drug_exposure_start_date,
      coalesce(e.drug_exposure_end_date, e.drug_exposure_start_date)
    FROM drug_exposure AS e JOIN procedure_concepts AS k ON k.concept_id = e.drug_concept_id) AS p
  WHERE start_date <= DATE '{as_of}' AND end_date >= DATE '{as_of}' - INTERVAL 6 MONTH
  GROUP BY person_id
),
criteria AS (
  SELECT p.person_id,
    datesub('year', p.birth_date, DATE '{consent}') BETWEEN 18 AND 75 AS i1,
    coalesce(c.sclc, FALSE) AND u.histologic_confirmation AND u.extensive_disease
      AND u.relapsed_or_refractory AND coalesce(d.anticancer, FALSE)
      AND (coalesce(d.platinum, FALSE) OR u.platinum_contraindicated) AS i2,
    u.measurable_disease AS i3,
    l.ecog_0_1 AS i4,
    l.anc_ok AND l.plt_ok AND l.crcl_ok AND l.ast_ok AND l.alt_ok AND l.bili_ok AS i5a,
    u.life_expectancy_12_weeks AS i6,
    NOT (p.sex = 'female' AND u.childbearing_potential) OR l.hcg_negative AS i8a,
    coalesce(c.leptomeningeal, FALSE)
      OR (coalesce(c.cns_metastases, FALSE) AND NOT u.cns_metastases_controlled) AS e1,
    coalesce(r.car_t, FALSE) AS e2a,  -- CAR-NK and other gene-modified cell therapy: no codes
    coalesce(r.allogeneic_hsct, FALSE) OR coalesce(c.gvhd, FALSE) AS e3,
    (coalesce(c.hiv, FALSE) AND l.hiv_rna_high) OR (coalesce(c.hepatitis_b, FALSE) AND l.hbv_dna_high)
      OR (coalesce(c.hepatitis_c, FALSE) AND l.hcv_rna_high) OR coalesce(c.tuberculosis, FALSE) AS e4
  FROM persons AS p CROSS JOIN not_in_omop AS u
  LEFT JOIN labs AS l USING (person_id)
  LEFT JOIN conditions AS c USING (person_id)
  LEFT JOIN prior_drugs AS d USING (person_id)
  LEFT JOIN recent_procedures AS r USING (person_id)
)
SELECT person_id,
  CASE WHEN NOT i1 OR NOT i2 OR NOT i3 OR NOT i4 OR NOT i5a OR NOT i6 OR NOT i8a
            OR e1 OR e2a OR e3 OR e4 THEN 'ineligible'
       WHEN i1 IS NULL OR i2 IS NULL OR i3 IS NULL OR i4 IS NULL OR i5a IS NULL OR i6 IS NULL
            OR i8a IS NULL OR e1 IS NULL OR e2a IS NULL OR e3 IS NULL OR e4 IS NULL
         THEN 'undetermined'
       ELSE 'eligible' END AS verdict,
  {outcomes}
FROM criteria ORDER BY person_id
"""
# the trial's criteria in order: the column computed above, or None for a review item
CRITERIA = [
    ("I1", "i1"), ("I2", "i2"), ("I3", "i3"), ("I4", "i4"), ("I5a", "i5a"), ("I5b", None),
    ("I6", "i6"), ("I7", None), ("I8a", "i8a"), ("I8b", None), ("E1", "e1"), ("E2a", "e2a"),
    ("E2b", None), ("E3", "e3"), ("E4", "e4"),
]  # fmt: skip


def hand_written_sql() -> str:
    outcomes = ",\n  ".join(
        f"CASE WHEN {column} THEN 'met' WHEN NOT {column} THEN 'not_met' ELSE 'unknown' END AS {name}"
        if column
        else f"'review' AS {name}"
        for name, column in CRITERIA
    )
    return HAND_WRITTEN.format(
        as_of=AS_OF.isoformat(), consent=ANCHORS["consent"].isoformat(), outcomes=outcomes
    )


# ---- the three screens, each run in a fresh interpreter ------------------------------------------


def _duckdb_settings(options: dict[str, Any], kind: str) -> dict[str, Any]:
    settings: dict[str, Any] = {"temp_directory": str(Path(options["folder"]) / f"spill-{kind}")}
    if options.get("memory_limit"):
        settings["memory_limit"] = options["memory_limit"]
    return settings


def _configure_duckdb(settings: dict[str, Any], profile: str | None = None) -> None:
    """Every DuckDB connection this process opens gets ``settings``, and writes a JSON profile of
    each query to ``profile`` when given (run_duckdb takes no DuckDB settings: its spill folder and
    memory limit are set this way, and only in this process)."""
    import duckdb

    connect = duckdb.connect

    def configured(*args: Any, config: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        connection = connect(*args, config={**(config or {}), **settings}, **kwargs)
        if profile:
            connection.execute("PRAGMA enable_profiling = 'json'")
            connection.execute(f"PRAGMA profiling_output = '{profile}'")
        return connection

    duckdb.connect = configured


def _write_rows(path: Path, rows: list[tuple[Any, ...]]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write("\t".join("" if cell is None else str(cell) for cell in row) + "\n")


def _measured(
    out: Path, rows: list[tuple[Any, ...]], start: float, cpu: float, before: int
) -> dict[str, Any]:
    """Stop the clocks started at ``start``/``cpu``, write ``rows`` and report the run."""
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = peak_kb()
    _write_rows(out, rows)
    return {
        "seconds": seconds,
        "cpu": cpu,
        "persons": len(rows),
        "before_kb": before,
        "peak_kb": peak,
    }


def _critlang(database: Path, out: Path, options: dict[str, Any]) -> dict[str, Any]:
    _configure_duckdb(_duckdb_settings(options, "critlang"), options.get("profile"))
    import critlang
    from critlang.sql import run_duckdb

    trial = critlang.load(TRIAL)
    before = rss_kb()
    start, cpu = time.perf_counter(), time.process_time()
    rows = run_duckdb(trial, database, AS_OF, anchors=ANCHORS)
    table = [(row.person_id, row.verdict, *row.outcomes) for row in rows]
    return _measured(out, table, start, cpu, before)


def _hand_written(database: Path, out: Path, options: dict[str, Any]) -> dict[str, Any]:
    import duckdb

    query = hand_written_sql()
    before = rss_kb()
    start, cpu = time.perf_counter(), time.process_time()
    connection = duckdb.connect(
        str(database), read_only=True, config=_duckdb_settings(options, "hand")
    )
    rows = connection.execute(query).fetchall()
    connection.close()
    return _measured(out, rows, start, cpu, before)


def _in_memory(database: Path, out: Path, options: dict[str, Any]) -> dict[str, Any]:
    import critlang
    from critlang.data.omop import read_omop

    trial = critlang.load(TRIAL)
    trial.evaluate({"id": "warm-up"}, as_of=AS_OF, anchors=ANCHORS, evidence=False)
    limit = options.get("limit") or 0
    unknown = (None,) * len(trial.criteria)
    before = rss_kb()
    start, cpu = time.perf_counter(), time.process_time()
    rows: list[tuple[Any, ...]] = []
    source = read_omop(database, trial.dictionary, memory_limit=options.get("memory_limit"))
    for entry in source:
        if limit and len(rows) == limit:
            break
        if not entry.id.isdigit():
            continue
        if entry.record is None:
            rows.append((int(entry.id), "error", *unknown))
            continue
        result = trial.evaluate(entry.record, as_of=AS_OF, anchors=ANCHORS, evidence=False)
        rows.append((int(entry.id), result.verdict.value, *(o.value for o in result.outcomes)))
    return _measured(out, rows, start, cpu, before)


_CHILDREN = {"critlang": _critlang, "hand": _hand_written, "memory": _in_memory}


def run_child(kind: str, database: Path, out: Path, options: dict[str, Any]) -> dict[str, Any]:
    command = [
        sys.executable,
        __file__,
        "--child",
        kind,
        str(database),
        str(out),
        json.dumps(options),
    ]
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
    )
    done = subprocess.run(
        command, capture_output=True, text=True, check=False, env=env, cwd=options["folder"]
    )
    if done.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{done.stderr}")
    measured: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return measured


# ---- comparing the rows, and the profile ---------------------------------------------------------


def compare(ours: Path, theirs: Path) -> tuple[int, Counter[str], list[str]]:
    """(persons compared, disagreements by column, a few examples). ``theirs`` may hold fewer
    persons (the first ones): only those are compared."""
    names = ["verdict", *(name for name, _ in CRITERIA)]
    differing: Counter[str] = Counter()
    examples: list[str] = []
    compared = 0
    with ours.open(encoding="utf-8") as mine, theirs.open(encoding="utf-8") as other:
        for line in other:
            theirs_cells = line.rstrip("\n").split("\t")
            for mine_line in mine:
                ours_cells = mine_line.rstrip("\n").split("\t")
                if ours_cells[0] == theirs_cells[0]:
                    break
                differing["person missing on one side"] += 1
            else:
                differing["person missing on one side"] += 1
                break
            compared += 1
            different = [
                name
                for name, a, b in zip(names, ours_cells[1:], theirs_cells[1:], strict=True)
                if a != b
            ]
            for name in different:
                differing[name] += 1
            if different and len(examples) < 5:
                examples.append(
                    f"person {ours_cells[0]}: "
                    + ", ".join(
                        f"{name} {ours_cells[1 + names.index(name)]} vs "
                        f"{theirs_cells[1 + names.index(name)]}"
                        for name in different
                    )
                )
    return compared, differing, examples


def profile_summary(path: Path, top: int = 10) -> list[str]:
    """DuckDB's JSON profile of the compiled query, summed per common table expression (the
    operators under it, CPU seconds over all threads), and the costliest operators."""
    profile = json.loads(path.read_text(encoding="utf-8"))
    by_cte: Counter[str] = Counter()
    operators: list[tuple[float, str, str, int, str]] = []

    def walk(node: dict[str, Any], cte: str) -> None:
        info = node.get("extra_info", {})
        name = str(info.get("CTE Name", ""))
        if node.get("type") == "CTE" and name and not name.startswith("__"):
            children = node.get("children", [])
            by_cte[name] += node.get("timing", 0.0)
            if children:
                walk(children[0], name)  # the definition; the rest reads it
            for child in children[1:]:
                walk(child, cte)
            return
        timing = float(node.get("timing", 0.0))
        by_cte[cte] += timing
        detail = (
            info.get("Projections")
            or info.get("Expression")
            or info.get("Aggregates")
            or info.get("Table")
            or ""
        )
        text = " ".join(str(detail).split())
        operators.append(
            (timing, str(node.get("type")), cte, int(node.get("intermediate_rows", 0)), text)
        )
        for child in node.get("children", []):
            walk(child, cte)

    for root in profile.get("operator", []):
        walk(root, "main query")
    total = sum(by_cte.values()) or 1.0
    query = profile.get("query", {})
    system = profile.get("system", {})
    planning = sum(
        float(profile.get(part, {}).get("total_time", 0.0))
        for part in ("planner", "optimizer", "physical_planner")
    )
    lines = [
        f"query {query.get('total_time', 0):.1f} s wall in DuckDB (planning and optimising "
        f"{planning:.1f} s); operators {total:.1f} CPU-s over the threads; peak buffer memory "
        f"{system.get('peak_buffer_memory', 0) / 1e9:.2f} GB; spilled "
        f"{system.get('peak_temp_dir_size', 0) / 1e9:.2f} GB",
        "CPU time by common table expression (those DuckDB does not materialise, leaf_* and "
        "truth_*, run inside the main query):",
    ]
    lines += [
        f"  {seconds:8.1f} s {100 * seconds / total:5.1f} %  {name}"
        for name, seconds in by_cte.most_common(8)
        if seconds > 0.005 * total
    ]
    lines.append("costliest operators:")
    for timing, kind, cte, rows, text in sorted(operators, reverse=True)[:top]:
        lines.append(
            f"  {timing:8.1f} s {100 * timing / total:5.1f} %  {kind:<11} in {cte:<16} "
            f"{rows:>11,} rows  {text[:150]}"
        )
    return lines


# ---- the run -------------------------------------------------------------------------------------


def _mb(kb: float) -> str:
    return f"{kb / 1024:,.0f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: 10,000 persons")
    parser.add_argument(
        "--persons", type=int, nargs="+", help="cohort sizes (default 100000 1000000)"
    )
    parser.add_argument(
        "--memory-persons",
        type=int,
        default=100_000,
        help="run the in-memory evaluator on cohorts of at most this many persons (default "
        "100,000); 0: never",
    )
    parser.add_argument(
        "--memory-limit", help="DuckDB's memory_limit in every run (e.g. 8GB; default DuckDB's)"
    )
    parser.add_argument(
        "--profile", action="store_true", help="profile critlang's query (DuckDB JSON profile)"
    )
    parser.add_argument(
        "--no-keys",
        action="store_true",
        help="generate the database without the CDM's primary keys (OHDSI's DDL declares them; "
        "critlang's query then leaves out the order of rows that share an id)",
    )
    parser.add_argument("--seed", type=int, default=SEED, help=argparse.SUPPRESS)
    parser.add_argument("--child", nargs=4, metavar="ARG", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, database, out, options = args.child
        measured = _CHILDREN[kind](Path(database), Path(out), json.loads(options))
        print(json.dumps(measured))
        return
    sizes = sorted(args.persons or ([10_000] if args.quick else [100_000, 1_000_000]))

    import duckdb
    import sqlglot

    import critlang

    trial = critlang.load(TRIAL)
    problems = check_codes(trial)
    if problems:
        raise SystemExit("the generated codes do not fit the trial:\n  " + "\n  ".join(problems))
    print(
        f"Python {platform.python_version()} on {platform.platform()}; critlang "
        f"{critlang.__version__}, DuckDB {duckdb.__version__}, sqlglot {sqlglot.__version__}"
    )
    print(
        f"trial {TRIAL.relative_to(ROOT)} ({len(trial.criteria)} criteria), screening "
        f"{AS_OF}, consent {ANCHORS['consent']}; {os.cpu_count()} CPUs; DuckDB memory_limit "
        f"{args.memory_limit or 'default (80% of RAM)'}; each screen in a fresh process, once; "
        f"{'no primary keys' if args.no_keys else 'the CDM primary keys declared'}"
    )
    print()
    started = time.perf_counter()
    results: list[dict[str, Any]] = []
    memory_rate: tuple[int, float] | None = None  # (cohort size, persons per second)
    profiles: list[tuple[int, list[str]]] = []
    with tempfile.TemporaryDirectory(prefix="critlang-sql-bench-") as folder:
        for size in sizes:
            database = Path(folder) / f"cohort-{size}.duckdb"
            clock = time.perf_counter()
            counts = generate(database, size, args.seed, keys=not args.no_keys)
            made = time.perf_counter() - clock
            print(
                f"cohort of {size:,} persons: {counts['measurement']:,} measurements, "
                f"{counts['condition_occurrence']:,} conditions, {counts['drug_exposure']:,} drug "
                f"exposures, {counts['procedure_occurrence']:,} procedures, {counts['death']:,} "
                f"deaths; {database.stat().st_size / 1e6:,.0f} MB, generated in {made:.1f} s",
                flush=True,
            )
            options: dict[str, Any] = {"folder": folder, "memory_limit": args.memory_limit}
            rows = {kind: Path(folder) / f"rows-{kind}-{size}.tsv" for kind in _CHILDREN}
            row: dict[str, Any] = {"size": size}
            row["hand"] = run_child("hand", database, rows["hand"], options)
            profile = Path(folder) / f"profile-{size}.json"
            row["critlang"] = run_child(
                "critlang",
                database,
                rows["critlang"],
                {**options, "profile": str(profile) if args.profile else None},
            )
            if args.profile:
                profiles.append((size, profile_summary(profile)))
            row["agreement"] = compare(rows["critlang"], rows["hand"])
            with rows["critlang"].open(encoding="utf-8") as handle:
                row["verdicts"] = Counter(line.split("\t")[1] for line in handle)
            if args.memory_persons and (size <= args.memory_persons or memory_rate is None):
                limit = 0 if size <= args.memory_persons else args.memory_persons
                row["memory"] = run_child(
                    "memory", database, rows["memory"], {**options, "limit": limit}
                )
                row["memory"]["subset"] = bool(limit)
                row["memory_agreement"] = compare(rows["critlang"], rows["memory"])
                memory_rate = (size, row["memory"]["persons"] / row["memory"]["seconds"])
            row["memory_rate"] = memory_rate
            results.append(row)
            for path in (database, *rows.values()):
                path.unlink(missing_ok=True)
            _print_cohort(row)
    _print_table(results)
    for size, lines in profiles[-1:]:
        print(f"\nwhere critlang's query spends its time, {size:,} persons (DuckDB profile):")
        for line in lines:
            print(line)
    print(f"\nthe whole run: {time.perf_counter() - started:.0f} s")


def _print_cohort(row: dict[str, Any]) -> None:
    size = row["size"]
    verdicts = ", ".join(f"{count:,} {name}" for name, count in sorted(row["verdicts"].items()))
    print(f"  verdicts (critlang): {verdicts}")
    for label, key in (("hand-written", "agreement"), ("in-memory", "memory_agreement")):
        if key not in row:
            continue
        compared, differing, examples = row[key]
        people = row["memory"]["persons"] if key == "memory_agreement" else size
        if not differing and compared == people:
            print(
                f"  critlang and {label}: the same verdict and {len(CRITERIA)} outcomes for "
                f"every one of {compared:,} persons"
            )
        else:
            counts = ", ".join(f"{name} {count:,}" for name, count in differing.most_common())
            print(f"  critlang and {label}: {compared:,} persons compared; differ: {counts}")
            for example in examples:
                print(f"    {example}")
    print(flush=True)


def _print_table(results: list[dict[str, Any]]) -> None:
    header = (
        f"{'persons':>10} {'critlang':>17} {'hand-written':>17} {'ratio':>6} {'CPU ratio':>9}"
        f" {'in-memory':>11} {'SQL/in-mem':>10}   {'peak RSS: critlang':>18} {'hand':>9}"
        f" {'in-memory':>9}"
    )
    print(header)
    print("-" * len(header))
    notes: list[str] = []
    for row in results:
        size, ours, theirs = row["size"], row["critlang"], row["hand"]
        memory = row.get("memory")
        rate_size, rate = row["memory_rate"] or (0, 0.0)
        ours_rate = size / ours["seconds"]
        in_memory = f"{rate:,.0f} p/s" if rate else "n/a"
        if memory is None and rate:
            in_memory += "*"
            notes.append(
                f"* {size:,}: the in-memory evaluator did not run on this cohort; its rate on the "
                f"{rate_size:,}-person cohort is used"
            )
        elif memory is not None and memory["subset"]:
            in_memory += "*"
            notes.append(
                f"* {size:,}: the in-memory evaluator ran on the first {memory['persons']:,} "
                f"persons of this cohort only"
            )
        print(
            f"{size:>10,} {ours['seconds']:>7.1f} s {ours_rate:>5,.0f} p/s"
            f" {theirs['seconds']:>6.1f} s {size / theirs['seconds']:>6,.0f} p/s"
            f" {ours['seconds'] / theirs['seconds']:>5.1f}x {ours['cpu'] / theirs['cpu']:>8.1f}x"
            f" {in_memory:>11} {f'{ours_rate / rate:.1f}x' if rate else 'n/a':>10}"
            f"   {_mb(ours['peak_kb']):>18} {_mb(theirs['peak_kb']):>9}"
            f" {_mb(memory['peak_kb']) if memory else 'n/a':>9}",
            flush=True,
        )
    print()
    print("critlang = critlang.sql.run_duckdb(trial, database, as_of, anchors=...): open the")
    print("database, compile the query, run it, one SqlRow per person. hand-written = HAND_WRITTEN")
    print("in benchmarks/sql.py on the same database, every row fetched. in-memory = read_omop +")
    print(
        "Trial.evaluate(record, evidence=False) per person. Wall time of one run each, in a fresh"
    )
    print("process; p/s = persons per second. ratio = critlang / hand-written wall time (target")
    print(
        "<= 1.5); CPU ratio the same in process CPU time (DuckDB's threads included). SQL/in-mem ="
    )
    print("critlang's rate / the in-memory evaluator's (target >= 20). Peak RSS = the process's")
    print("peak resident memory (VmHWM; DuckDB is embedded, so it is counted).")
    for note in notes:
        print(note)


if __name__ == "__main__":
    main()
