"""Hand-written plain-Python eligibility functions for the five example trials, the baseline that
``benchmarks/evaluate.py`` times critlang's evaluator against.

Each function takes one patient record as ``json.loads`` gives it (SPEC §6) and returns the outcome
of every criterion of its trial: ``"met"``, ``"not_met"``, ``"unknown"`` or ``"review"``. It is the
code a developer would write by hand for these criteria on these records: direct dict access, the
dictionary's names, aliases and codes for just the concepts used, three-valued (Kleene) logic with
``None`` for unknown, exact decimals at every threshold, and the conversions of just the units the
records use. It does not import critlang nor read the ``.crit`` files.

The benchmark checks, before timing, that each function gives exactly critlang's outcome for every
criterion of every example record (``examples/<trial>/records/*.json``); a function that disagrees
is reported and not timed. Keep them in step with the ``.crit`` files and the records.

The rules critlang applies, and these functions follow:

- a lab without a window is the latest result dated on or before screening; with a window
  (``within D before A``) the latest dated result in [A - D, A];
- ``x ULN`` is the ULN (``high``) of the result used, in the result's own unit; no ULN is unknown;
- a bare condition is true while active (status not inactive/resolved/..., and no abatement
  before screening); a record without a ``conditions`` (or ``events``) section makes it unknown,
  an empty section makes it false;
- an occurrence is ``within D before A`` when [start, end] overlaps [A - D, A] (an event without
  an end lasts a day, a condition without an abatement is ongoing, unless it is resolved: then
  it is unknown when it began before the window); ``before A`` is a start
  before A; months are calendar months;
- ``if c then a else b`` with ``c`` unknown is decided when both branches agree.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

Record = dict[str, Any]
Truth = bool | None  # None: unknown

_OUTCOME = {True: "met", False: "not_met", None: "unknown"}
REVIEW = "review"

# ---- three-valued logic -------------------------------------------------------------------------


def _and(*values: Truth) -> Truth:
    if False in values:
        return False
    return None if None in values else True


def _or(*values: Truth) -> Truth:
    if True in values:
        return True
    return None if None in values else False


def _not(value: Truth) -> Truth:
    return None if value is None else not value


def _implies(premise: Truth, conclusion: Truth) -> Truth:
    return _or(_not(premise), conclusion)


def _if(test: Truth, then: Truth, otherwise: Truth) -> Truth:
    if test is None:
        return then if then == otherwise else None
    return then if test else otherwise


def _ge(value: Any, threshold: Any) -> Truth:
    return None if value is None else value >= threshold


def _gt(value: Any, threshold: Any) -> Truth:
    return None if value is None else value > threshold


def _le(value: Any, threshold: Any) -> Truth:
    return None if value is None else value <= threshold


def _between(value: Any, low: Any, high: Any) -> Truth:
    return None if value is None else low <= value <= high


def _eq(value: Any, expected: Any) -> Truth:
    return None if value is None else value == expected


# ---- dates ---------------------------------------------------------------------------------------


def _day(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


def _months_before(day: date | None, months: int) -> date | None:
    """Calendar months back; the day is clamped to the month's end (31 May - 3 months = 28 Feb)."""
    if day is None:
        return None
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _days_before(day: date | None, days: int) -> date | None:
    return None if day is None else day - timedelta(days=days)


def _age(record: Record, day: date | None) -> int | None:
    """Completed years at ``day``."""
    born = _day(record.get("birth_date"))
    if born is None or day is None:
        return None
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


# ---- facts ---------------------------------------------------------------------------------------


def _flag(facts: dict[str, Any], name: str) -> Truth:
    value = facts.get(name)
    return value if isinstance(value, bool) else None


def _integer(facts: dict[str, Any], name: str) -> int | float | None:
    value = facts.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float) or value % 1:
        return None
    return value


def _symbol(value: Any, allowed: frozenset[str]) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip().casefold()
    return value if value in allowed else None


_SEXES = frozenset({"female", "male", "other", "unknown"})
_DAYS_PER_UNIT = {
    "wk": Decimal(7),
    "d": Decimal(1),
    "mo": Decimal("30.4375"),
    "a": Decimal("365.25"),
}


def _duration_days(value: Any) -> Decimal | None:
    """A duration fact written ``"24 wk"``, in days (UCUM: mo = 30.4375 d, a = 365.25 d)."""
    if not isinstance(value, str):
        return None
    number, _, unit = value.strip().partition(" ")
    factor = _DAYS_PER_UNIT.get(unit.strip())
    return None if factor is None else Decimal(number) * factor


def _female_of_childbearing_potential(record: Record, facts: dict[str, Any]) -> Truth:
    sex = _symbol(record.get("sex"), _SEXES)
    return _and(_eq(sex, "female"), _flag(facts, "childbearing_potential"))


# ---- labs ----------------------------------------------------------------------------------------

# Results that records give by code instead of name.
_LAB_CODES = {"LOINC:2106-3": "pregnancy_test", "LOINC:2118-8": "pregnancy_test"}

# Factor from each unit the records use to the unit of the criterion's threshold.
_ONE = Decimal(1)
_PER_NL = {"10*9/L": _ONE, "/uL": Decimal("0.001")}  # cell counts in 10*9/L
_HB_G_DL = {"g/dL": _ONE, "g/L": Decimal("0.1")}
_HB_G_L = {"g/L": _ONE, "g/dL": Decimal(10)}
_PERCENT = {"%": _ONE}
_NG_ML = {"ng/mL": _ONE}
_ML_MIN = {"mL/min": _ONE}
# Units a result compared with its own ULN may have (the ULN is in the same unit).
_ENZYME = frozenset({"U/L", "IU/L", "[IU]/L"})
_MASS_OR_MOLAR = frozenset({"mg/dL", "umol/L"})
_IU_ML = frozenset({"IU/mL", "[IU]/mL"})
_COPIES_ML = frozenset({"{copies}/mL"})
_POS_NEG = frozenset({"positive", "negative"})


def _lab_index(record: Record) -> dict[str, list[dict[str, Any]]]:
    labs: dict[str, list[dict[str, Any]]] = {}
    for lab in record.get("labs") or ():
        key = lab.get("name") or _LAB_CODES.get(lab.get("code", ""))
        if key is not None:
            labs.setdefault(key, []).append(lab)
    return labs


def _latest(results: list[dict[str, Any]], until: date | None, since: date | None = None) -> Any:
    """The latest result dated on or before ``until`` (any date when ``until`` is None); with
    ``since``, only dated results in [since, until]."""
    best, best_day = None, date.min
    for result in results:
        day = _day(result.get("date"))
        if since is not None and (day is None or day < since):
            continue
        if until is not None and day is not None and day > until:
            continue
        if best is None or (day or date.min) >= best_day:
            best, best_day = result, day or date.min
    return best


def _number(value: Any) -> Decimal | None:
    """A JSON number as an exact decimal: 1.8 is 18/10, as written, not the nearest binary float."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return Decimal(str(value))


def _quantity(result: dict[str, Any] | None, factors: dict[str, Decimal]) -> Decimal | None:
    """The result's value in the threshold's unit; None when missing or in another unit."""
    if result is None:
        return None
    value, factor = _number(result.get("value")), factors.get(result.get("unit", ""))
    return None if value is None or factor is None else value * factor


def _vs_uln(
    result: dict[str, Any] | None, units: frozenset[str], factor: Decimal
) -> tuple[Decimal, Decimal] | None:
    """(value, factor x the result's ULN), or None when the value or the ULN is missing."""
    if result is None or result.get("unit") not in units:
        return None
    value, high = _number(result.get("value")), _number(result.get("high"))
    return None if value is None or high is None else (value, factor * high)


def _le_uln(result: dict[str, Any] | None, units: frozenset[str], factor: str) -> Truth:
    pair = _vs_uln(result, units, Decimal(factor))
    return None if pair is None else pair[0] <= pair[1]


def _gt_uln(result: dict[str, Any] | None, units: frozenset[str], factor: str) -> Truth:
    pair = _vs_uln(result, units, Decimal(factor))
    return None if pair is None else pair[0] > pair[1]


def _result_is(result: dict[str, Any] | None, expected: str) -> Truth:
    """A qualitative result (``positive``/``negative``) equals ``expected``."""
    value = None if result is None else result.get("value")
    return value.strip().casefold() == expected if isinstance(value, str) else None


# ---- conditions, treatments and events ----------------------------------------------------------


def _normal_code(code: str) -> str:
    """``ICD10CM:C44.311`` -> ``ICD10:C44311``: ICD-10-CM is ICD-10, codes compare without dots."""
    system, _, value = code.partition(":")
    system = system.upper()
    if system == "ICD10CM":
        system = "ICD10"
    return f"{system}:{value.replace('.', '').upper()}"


class _Concept(NamedTuple):
    names: frozenset[str]  # casefolded name and aliases
    codes: frozenset[str]  # normalised exact codes
    prefixes: tuple[str, ...]  # normalised code prefixes (``ICD10:C34*``)


def _concept(names: str, *codes: str) -> _Concept:
    exact = frozenset(_normal_code(c) for c in codes if not c.endswith("*"))
    prefixes = tuple(_normal_code(c[:-1]) for c in codes if c.endswith("*"))
    return _Concept(frozenset(names.casefold().split()), exact, prefixes)


def _is(item: dict[str, Any], concept: _Concept) -> bool:
    name = item.get("name")
    if name is not None and name.casefold() in concept.names:
        return True
    code = item.get("code")
    if code is None:
        return False
    code = _normal_code(code)
    return code in concept.codes or code.startswith(concept.prefixes)


def _section(record: Record, key: str) -> list[dict[str, Any]] | None:
    """A section the record gives, or None when it has none (``null`` is "not known")."""
    value = record.get(key)
    return None if value is None else value


_INACTIVE = frozenset({"inactive", "resolved", "remission", "refuted", "entered-in-error"})


def _active(
    conditions: list[dict[str, Any]] | None, concept: _Concept, screening: date | None
) -> Truth:
    """The patient has the condition at screening: its status is not inactive, it began on or
    before screening and did not abate before it."""
    if conditions is None:
        return None
    for item in conditions:
        if not _is(item, concept):
            continue
        status = item.get("status")
        if status is not None and status.casefold() in _INACTIVE:
            continue
        start = _day(item.get("onset") or item.get("start"))
        if start is not None and screening is not None and start > screening:
            continue  # not yet begun at screening
        end = _day(item.get("abatement") or item.get("end"))
        if end is None or screening is None or end >= screening:
            return True
    return False


def _within(
    items: list[dict[str, Any]] | None,
    concept: _Concept,
    low: date | None,
    high: date | None,
    *,
    ongoing: bool = False,
    excluded: tuple[_Concept, ...] = (),
) -> Truth:
    """Some occurrence overlaps [low, high]. Without an end, an event lasts its start day and a
    condition (``ongoing``) lasts until now."""
    if items is None or low is None or high is None:
        return None
    undated = resolved_unknown = False
    for item in items:
        if not _is(item, concept) or any(_is(item, other) for other in excluded):
            continue
        start = _day(item.get("start") or item.get("onset"))
        if start is None:
            undated = True
            continue
        end = _day(item.get("end") or item.get("abatement"))
        status = (item.get("status") or "").casefold()
        if ongoing and end is None and status in _INACTIVE and start < low:
            # resolved on a date the record does not give: it may or may not reach the window
            resolved_unknown = resolved_unknown or start <= high
            continue
        if end is None and not ongoing:
            end = start
        if start <= high and (end is None or end >= low):
            return True
    return None if (undated or resolved_unknown) else False


def _before(items: list[dict[str, Any]] | None, concept: _Concept, anchor: date | None) -> Truth:
    """Some occurrence started before ``anchor``."""
    if items is None or anchor is None:
        return None
    undated = False
    for item in items:
        if _is(item, concept):
            start = _day(item.get("start") or item.get("onset"))
            if start is None:
                undated = True
            elif start < anchor:
                return True
    return None if undated else False


# The dictionary's names, aliases and codes of the concepts these trials use.
MALIGNANCY = _concept(
    "malignancy cancer malignant_neoplasm",
    *("ICD10:C0*", "ICD10:C1*", "ICD10:C2*", "ICD10:C3*", "ICD10:C4*", "ICD10:C5*", "ICD10:C6*"),
    *("ICD10:C70*", "ICD10:C71*", "ICD10:C72*", "ICD10:C73*", "ICD10:C74*", "ICD10:C75*"),
    *("ICD10:C76*", "ICD10:C8*", "ICD10:C9*", "ICD10CM:C7A*", "ICD10:D0*"),
    *("SNOMED:363346000", "SNOMED:363358000", "SNOMED:254637007", "SNOMED:254632001"),
    *("SNOMED:254701007", "SNOMED:393563007"),
)
SOLID_TUMOR = _concept(
    "solid_tumor solid_tumour solid_cancer",
    *("ICD10:C0*", "ICD10:C1*", "ICD10:C2*", "ICD10:C3*", "ICD10:C4*", "ICD10:C5*", "ICD10:C6*"),
    *("ICD10:C70*", "ICD10:C71*", "ICD10:C72*", "ICD10:C73*", "ICD10:C74*", "ICD10:C75*"),
    *("ICD10:C76*", "ICD10:C80*", "ICD10CM:C7A*", "ICD10:D0*"),
    *("SNOMED:363358000", "SNOMED:254637007", "SNOMED:254632001", "SNOMED:254701007"),
    "SNOMED:393563007",
)
LUNG_CANCER = _concept(
    "lung_cancer lung_carcinoma",
    *("ICD10:C34*", "SNOMED:363358000", "SNOMED:254637007", "SNOMED:254632001"),
)
SCLC = _concept("sclc small_cell_lung_cancer", "SNOMED:254632001")
HCC = _concept("hepatocellular_carcinoma HCC liver_cell_carcinoma", "ICD10:C22.0")
CERVICAL_CIS = _concept("cervical_carcinoma_in_situ cervical_CIS", "ICD10:D06*")
BCC = _concept(
    "basal_cell_carcinoma BCC basal_cell_carcinoma_of_skin",
    *(f"ICD10CM:C44.{site}1*" for site in range(10)),
    "SNOMED:254701007",
)
CNS_METASTASES = _concept(
    "cns_metastases brain_metastases", "ICD10:C79.3*", "ICD10:C79.4*", "SNOMED:94225005"
)
LEPTOMENINGEAL = _concept(
    "leptomeningeal_disease leptomeningeal_metastases leptomeningeal_carcinomatosis",
    "ICD10CM:C79.32",
)
LIVER_METASTASES = _concept(
    "liver_metastases hepatic_metastases liver_metastasis", "ICD10:C78.7", "SNOMED:94381002"
)
SEROSAL_METASTASES = _concept(  # pleural or peritoneal metastases, malignant effusion or ascites
    "pleural_metastases peritoneal_metastases peritoneal_carcinomatosis"
    " malignant_pleural_effusion malignant_ascites",
    *("ICD10:C78.2", "ICD10:C78.6", "ICD10CM:J91.0", "ICD10CM:R18.0"),
)
PERICARDIAL_EFFUSION = _concept("pericardial_effusion", "ICD10:I31.3*", "SNOMED:373945007")
MYOCARDIAL_INFARCTION = _concept(
    "myocardial_infarction MI heart_attack", "ICD10:I21*", "ICD10:I22*", "SNOMED:22298006"
)
CABG = _concept(
    "CABG coronary_artery_bypass_graft",
    *("SNOMED:232717009", "CPT:3351*", "CPT:3352*", "CPT:3353*"),
)
VENTRICULAR_ARRHYTHMIA = _concept(
    "ventricular_arrhythmia",
    *("ICD10:I47.2*", "ICD10:I49.0*", "SNOMED:25569003", "SNOMED:71908006"),
)
ACTIVE_INFECTION = _concept("active_infection uncontrolled_infection")
HIV_INFECTION = _concept(
    "HIV_infection HIV",
    *("ICD10:B20*", "ICD10:B21*", "ICD10:B22*", "ICD10:B23*", "ICD10:B24", "ICD10:Z21"),
    "SNOMED:86406008",
)
HEPATITIS_B = _concept(
    "hepatitis_b HBV_infection", "ICD10:B16*", "ICD10:B18.0", "ICD10:B18.1", "SNOMED:66071002"
)
HEPATITIS_C = _concept(
    "hepatitis_c HCV_infection", "ICD10:B17.1*", "ICD10:B18.2", "SNOMED:50711007"
)
ACTIVE_TUBERCULOSIS = _concept(
    "active_tuberculosis tuberculosis TB",
    *("ICD10:A15*", "ICD10:A16*", "ICD10:A17*", "ICD10:A18*", "ICD10:A19*", "SNOMED:56717001"),
)
AUTOIMMUNE_DISEASE = _concept(
    "autoimmune_disease autoimmune_diseases",
    *("SNOMED:85828009", "ICD10:M05*", "ICD10:M06*", "ICD10:M32*", "ICD10:M33*", "ICD10:M34*"),
    *("ICD10:M35.0", "ICD10:M31*", "ICD10:M45*", "ICD10:L40*", "ICD10:K50*", "ICD10:K51*"),
    *("ICD10:K75.4", "ICD10:K90.0", "ICD10:G35*", "ICD10:G61.0", "ICD10:G70.0", "ICD10:E05.0"),
    *("ICD10:E06.3", "ICD10:E10*", "ICD10:E27.1", "ICD10:D59.1", "ICD10:D69.3", "ICD10:L80"),
    *("SNOMED:46635009", "SNOMED:9014002"),
)
IMMUNODEFICIENCY = _concept(
    "immunodeficiency immune_deficiency",
    *("ICD10:D80*", "ICD10:D81*", "ICD10:D82*", "ICD10:D83*", "ICD10:D84*"),
    *("ICD10:B20*", "ICD10:B21*", "ICD10:B22*", "ICD10:B23*", "ICD10:B24"),
)
GVHD = _concept("graft_versus_host_disease GVHD", "ICD10CM:D89.81*", "SNOMED:234646005")

ANTICANCER_THERAPY = _concept(
    "anticancer_therapy systemic_anticancer_therapy antitumor_therapy antineoplastic_therapy",
    "ATC:L01*",
    "ATC:L02*",
)
_CHEMOTHERAPY = ("ATC:L01A*", "ATC:L01B*", "ATC:L01C*", "ATC:L01D*", "ATC:L01XA*", "ATC:L01XB*")
_TARGETED = (
    *("ATC:L01E*", "ATC:L01XE*", "ATC:L01FA*", "ATC:L01FB*", "ATC:L01FC*", "ATC:L01FD*"),
    *("ATC:L01FE*", "ATC:L01FG*", "ATC:L01XG*", "ATC:L01XH*", "ATC:L01XJ*", "ATC:L01XK*"),
)
CHEMO_OR_TARGETED = _concept(
    "chemotherapy cytotoxic_chemotherapy targeted_therapy molecular_targeted_therapy",
    *_CHEMOTHERAPY,
    *_TARGETED,
)
CHEMO_TARGETED_OR_INVESTIGATIONAL = _concept(
    "chemotherapy cytotoxic_chemotherapy targeted_therapy molecular_targeted_therapy"
    " investigational_drug investigational_agent study_drug investigational_product",
    *_CHEMOTHERAPY,
    *_TARGETED,
)
PLATINUM_CHEMOTHERAPY = _concept("platinum_chemotherapy platinum", "ATC:L01XA*")
LIVE_VACCINE = _concept(
    "live_vaccine live_attenuated_vaccine",
    *("CVX:02", "CVX:03", "CVX:04", "CVX:05", "CVX:06", "CVX:07", "CVX:19", "CVX:21", "CVX:25"),
    *("CVX:37", "CVX:38", "CVX:94", "CVX:111", "CVX:149", "CVX:116", "CVX:119", "CVX:122"),
    *("CVX:121", "CVX:143"),
)
STUDY_PARTICIPATION = _concept(
    "clinical_study_participation clinical_trial_participation other_clinical_study"
    " other_clinical_trial"
)
GENE_MODIFIED_CELL_THERAPY = _concept(  # CAR-T, CAR-NK or other gene-modified cell therapy
    "car_t_therapy CAR_T car_t_cell_therapy car_nk_therapy CAR_NK gene_modified_cell_therapy"
    " gene_modified_cellular_therapy",
    *("CPT:38228", "CPT:0540T", "HCPCS:Q2041", "HCPCS:Q2042"),
)
ALLOGENEIC_HSCT = _concept("allogeneic_stem_cell_transplant allo_HSCT allogeneic_HSCT", "CPT:38240")

# ---- the trials ---------------------------------------------------------------------------------


def nct06945523(record: Record) -> dict[str, str]:
    """CAR-T targeting CEA in CEA-positive advanced lung cancer."""
    facts = record.get("facts") or {}
    anchors = record.get("anchors") or {}
    screening = _day(anchors.get("screening"))
    enrollment = _day(anchors.get("enrollment"))
    labs = _lab_index(record)
    conditions = _section(record, "conditions")
    events = _section(record, "events")

    def lab(name: str) -> Any:
        return _latest(labs.get(name, []), screening)

    liver_metastases = _active(conditions, LIVER_METASTASES, screening)
    alt, ast = lab("ALT"), lab("AST")
    hepatic = _if(
        liver_metastases,
        _and(_le_uln(alt, _ENZYME, "5.0"), _le_uln(ast, _ENZYME, "5.0")),
        _and(_le_uln(alt, _ENZYME, "3.0"), _le_uln(ast, _ENZYME, "3.0")),
    )
    cea_ihc_recent = (  # "within 3 months before screening"
        None
        if screening is None
        else _latest(labs.get("CEA_IHC", []), screening, _months_before(screening, 3))
    )
    return {
        "I1": _OUTCOME[_ge(_age(record, screening), 18)],
        "I2": _OUTCOME[
            _and(
                _active(conditions, LUNG_CANCER, screening),
                _flag(facts, "histologic_confirmation"),
                _or(
                    _flag(facts, "advanced_disease"),
                    _flag(facts, "metastatic_disease"),
                    _flag(facts, "recurrent_disease"),
                ),
            )
        ],
        "I3": _OUTCOME[
            _and(
                _ge(_integer(facts, "prior_lines_of_therapy"), 1),
                _or(
                    _flag(facts, "progressive_disease"), _flag(facts, "intolerant_to_prior_therapy")
                ),
            )
        ],
        "I4a": _OUTCOME[
            _implies(
                _flag(facts, "intrapleural_group"),
                _result_is(lab("pleural_effusion_cytology"), "positive"),
            )
        ],
        "I4b": REVIEW,
        "I5": _OUTCOME[
            _or(
                _ge(_quantity(cea_ihc_recent, _PERCENT), 10),
                _and(
                    _ge(_quantity(lab("CEA_IHC"), _PERCENT), 10),
                    _gt(_quantity(lab("CEA"), _NG_ML), 10),
                ),
            )
        ],
        "I6": _OUTCOME[_flag(facts, "measurable_disease")],
        "I7": _OUTCOME[_between(_integer(facts, "ECOG"), 0, 2)],
        "I8": _OUTCOME[_gt(_duration_days(facts.get("life_expectancy")), 12 * 7)],
        "I9": REVIEW,
        "I10.1": _OUTCOME[
            _and(
                _gt(_quantity(lab("WBC"), _PER_NL), Decimal("2.0")),
                _gt(_quantity(lab("ANC"), _PER_NL), Decimal("1.0")),
                _gt(_quantity(lab("ALC"), _PER_NL), Decimal("0.5")),
                _gt(_quantity(lab("platelets"), _PER_NL), 50),
                _gt(_quantity(lab("hemoglobin"), _HB_G_L), 80),
            )
        ],
        "I10.2a": _OUTCOME[_ge(_quantity(lab("LVEF"), _PERCENT), 50)],
        "I10.2b": REVIEW,
        "I10.3": _OUTCOME[_le_uln(lab("creatinine"), _MASS_OR_MOLAR, "2.0")],
        "I10.4": _OUTCOME[hepatic],
        "I10.5": _OUTCOME[_le_uln(lab("bilirubin"), _MASS_OR_MOLAR, "2.0")],
        "I10.6": _OUTCOME[_gt(_quantity(lab("SpO2"), _PERCENT), 92)],
        "I11": REVIEW,
        "I12": REVIEW,
        "I13": REVIEW,
        "E1": _OUTCOME[
            _and(
                _or(
                    _active(conditions, CNS_METASTASES, screening),
                    _active(conditions, LEPTOMENINGEAL, screening),
                ),
                _or(
                    _flag(facts, "cns_metastases_symptomatic"),
                    _not(_flag(facts, "cns_metastases_controlled")),
                ),
            )
        ],
        "E2": _OUTCOME[
            _within(events, STUDY_PARTICIPATION, _months_before(screening, 1), screening)
        ],
        "E3": _OUTCOME[_within(events, LIVE_VACCINE, _days_before(screening, 28), screening)],
        "E4": _OUTCOME[
            _within(
                events, CHEMO_TARGETED_OR_INVESTIGATIONAL, _days_before(screening, 14), screening
            )
        ],
        "E5": _OUTCOME[_active(conditions, ACTIVE_INFECTION, screening)],
        "E6": REVIEW,
        "E7.1": _OUTCOME[_between(_integer(facts, "NYHA_class"), 3, 4)],
        "E7.2": _OUTCOME[
            _or(
                _within(
                    conditions,
                    MYOCARDIAL_INFARCTION,
                    _months_before(enrollment, 6),
                    enrollment,
                    ongoing=True,
                ),
                _within(events, CABG, _months_before(enrollment, 6), enrollment),
            )
        ],
        "E7.3a": _OUTCOME[_active(conditions, VENTRICULAR_ARRHYTHMIA, screening)],
        "E7.3b": REVIEW,
        "E7.4": REVIEW,
        "E8": _OUTCOME[
            _or(
                _active(conditions, AUTOIMMUNE_DISEASE, screening),
                _flag(facts, "chronic_immunosuppression_required"),
            )
        ],
        "E9": _OUTCOME[
            _within(
                conditions,
                MALIGNANCY,
                _months_before(screening, 36),
                screening,
                ongoing=True,
                excluded=(LUNG_CANCER, CERVICAL_CIS, BCC),
            )
        ],
        "E10": _OUTCOME[
            _or(
                _and(
                    _or(_result_is(lab("HBsAg"), "positive"), _result_is(lab("HBcAb"), "positive")),
                    _gt_uln(lab("HBV_DNA"), _IU_ML, "1"),
                ),
                _and(
                    _result_is(lab("HCV_antibody"), "positive"),
                    _gt_uln(lab("HCV_RNA"), _IU_ML, "1"),
                ),
                _result_is(lab("HIV_antibody"), "positive"),
                _result_is(lab("syphilis_test"), "positive"),
            )
        ],
        "E11": _OUTCOME[_or(_flag(facts, "pregnant"), _flag(facts, "breastfeeding"))],
        "E12": REVIEW,
    }


def nct07480213(record: Record) -> dict[str, str]:
    """Dual-target CAR-NK cells in relapsed/refractory small cell lung cancer."""
    facts = record.get("facts") or {}
    anchors = record.get("anchors") or {}
    screening = _day(anchors.get("screening"))
    labs = _lab_index(record)
    conditions = _section(record, "conditions")
    events = _section(record, "events")

    def lab(name: str) -> Any:
        return _latest(labs.get(name, []), screening)

    stage = _symbol(facts.get("sclc_stage"), frozenset({"limited", "extensive"}))
    return {
        "I1": _OUTCOME[_between(_age(record, _day(anchors.get("consent"))), 18, 75)],
        "I2": _OUTCOME[
            _and(
                _active(conditions, SCLC, screening),
                _flag(facts, "histologic_confirmation"),
                _or(
                    _flag(facts, "metastatic_disease"),
                    _eq(stage, "extensive"),
                    _flag(facts, "unresectable_disease"),
                ),
                _or(_flag(facts, "relapsed_disease"), _flag(facts, "refractory_disease")),
                _before(events, ANTICANCER_THERAPY, screening),
                _or(
                    _before(events, PLATINUM_CHEMOTHERAPY, screening),
                    _flag(facts, "platinum_contraindicated"),
                ),
            )
        ],
        "I3": _OUTCOME[_flag(facts, "measurable_disease")],
        "I4": _OUTCOME[_between(_integer(facts, "ECOG"), 0, 1)],
        "I5a": _OUTCOME[
            _and(
                _ge(_quantity(lab("ANC"), _PER_NL), Decimal("1.0")),
                _ge(_quantity(lab("platelets"), _PER_NL), 75),
                _ge(_quantity(lab("creatinine_clearance"), _ML_MIN), 50),
                _le_uln(lab("AST"), _ENZYME, "3"),
                _le_uln(lab("ALT"), _ENZYME, "3"),
                _le_uln(lab("bilirubin"), _MASS_OR_MOLAR, "1.5"),
            )
        ],
        "I5b": REVIEW,
        "I6": _OUTCOME[_ge(_duration_days(facts.get("life_expectancy")), 12 * 7)],
        "I7": REVIEW,
        "I8a": _OUTCOME[
            _implies(
                _female_of_childbearing_potential(record, facts),
                _result_is(lab("pregnancy_test"), "negative"),
            )
        ],
        "I8b": REVIEW,
        "E1": _OUTCOME[
            _or(
                _active(conditions, LEPTOMENINGEAL, screening),
                _and(
                    _active(conditions, CNS_METASTASES, screening),
                    _not(_flag(facts, "cns_metastases_controlled")),
                ),
            )
        ],
        "E2a": _OUTCOME[
            _within(events, GENE_MODIFIED_CELL_THERAPY, _months_before(screening, 6), screening)
        ],
        "E2b": REVIEW,
        "E3": _OUTCOME[
            _or(
                _within(events, ALLOGENEIC_HSCT, _months_before(screening, 6), screening),
                _active(conditions, GVHD, screening),
            )
        ],
        "E4": _OUTCOME[
            _or(
                _active(conditions, ACTIVE_INFECTION, screening),
                _and(
                    _active(conditions, HIV_INFECTION, screening),
                    _gt_uln(lab("HIV_RNA"), _COPIES_ML, "1"),
                ),
                _and(
                    _active(conditions, HEPATITIS_B, screening),
                    _gt_uln(lab("HBV_DNA"), _IU_ML, "1"),
                ),
                _and(
                    _active(conditions, HEPATITIS_C, screening),
                    _gt_uln(lab("HCV_RNA"), _IU_ML, "1"),
                ),
                _active(conditions, ACTIVE_TUBERCULOSIS, screening),
            )
        ],
    }


def vegfr1_pdl1_cart(record: Record) -> dict[str, str]:
    """VEGFR1/PD-L1 dual-targeting CAR-T in cancer with pleural or peritoneal metastases."""
    facts = record.get("facts") or {}
    anchors = record.get("anchors") or {}
    screening = _day(anchors.get("screening"))
    treatment = _day(anchors.get("treatment"))
    labs = _lab_index(record)
    conditions = _section(record, "conditions")
    events = _section(record, "events")

    def lab(name: str) -> Any:
        return _latest(labs.get(name, []), screening)

    # "within 48 hours before treatment": records are dated by day, so [treatment - 2 d, treatment].
    pregnancy_test = (
        None
        if treatment is None
        else _result_is(
            _latest(labs.get("pregnancy_test", []), treatment, treatment - timedelta(days=2)),
            "negative",
        )
    )
    return {
        "I1": _OUTCOME[
            _and(
                _between(_age(record, screening), 18, 65),
                _implies(_female_of_childbearing_potential(record, facts), pregnancy_test),
            )
        ],
        "I2a": _OUTCOME[
            _and(
                _active(conditions, MALIGNANCY, screening),
                _active(conditions, SEROSAL_METASTASES, screening),
                _before(events, ANTICANCER_THERAPY, screening),
            )
        ],
        "I2b": REVIEW,
        "I3": _OUTCOME[_between(_integer(facts, "ECOG"), 0, 2)],
        "I4": _OUTCOME[_ge(_duration_days(facts.get("life_expectancy")), 3 * _DAYS_PER_UNIT["mo"])],
        "I5": _OUTCOME[
            _and(
                _ge(_quantity(lab("ANC"), _PER_NL), Decimal("1.5")),
                _ge(_quantity(lab("platelets"), _PER_NL), 90),
                _ge(_quantity(lab("ALC"), _PER_NL), Decimal("0.1")),  # 1 x10^8/L
                _ge(_quantity(lab("hemoglobin"), _HB_G_DL), Decimal("9.0")),
            )
        ],
        "I6": _OUTCOME[
            _and(
                _ge(_quantity(lab("creatinine_clearance"), _ML_MIN), 60),
                _le_uln(lab("ALT"), _ENZYME, "2.5"),
                _le_uln(lab("AST"), _ENZYME, "2.5"),
                _le_uln(lab("bilirubin"), _MASS_OR_MOLAR, "1.5"),
            )
        ],
        "I7": _OUTCOME[
            _and(
                _ge(_quantity(lab("LVEF"), _PERCENT), 50),
                _not(_active(conditions, PERICARDIAL_EFFUSION, screening)),
            )
        ],
        "I8": _OUTCOME[
            _not(
                _or(
                    _active(conditions, AUTOIMMUNE_DISEASE, screening),
                    _active(conditions, IMMUNODEFICIENCY, screening),
                    _flag(facts, "chronic_immunosuppression_required"),
                )
            )
        ],
        "I9": _OUTCOME[
            _not(_within(events, CHEMO_OR_TARGETED, _days_before(treatment, 21), treatment))
        ],
        "I10": REVIEW,
        "I11": REVIEW,
        "I12": _OUTCOME[_le(_integer(facts, "residual_toxicity_grade"), 1)],
    }


def c_car031_hcc(record: Record) -> dict[str, str]:
    """Armored CAR-T C-CAR031 in advanced hepatocellular carcinoma."""
    screening = _day((record.get("anchors") or {}).get("screening"))
    hcc = _active(_section(record, "conditions"), HCC, screening)
    unresectable = _flag(record.get("facts") or {}, "unresectable_disease")
    return {"I1": _OUTCOME[_and(hcc, unresectable)]}


def th027_solid_tumors(record: Record) -> dict[str, str]:
    """TH027 CAR-T in relapsed or refractory solid tumours."""
    facts = record.get("facts") or {}
    screening = _day((record.get("anchors") or {}).get("screening"))
    solid_tumor = _active(_section(record, "conditions"), SOLID_TUMOR, screening)
    relapsed_or_refractory = _or(
        _flag(facts, "relapsed_disease"), _flag(facts, "refractory_disease")
    )
    return {"I1": _OUTCOME[_and(solid_tumor, relapsed_or_refractory)]}


# Trial file stem -> the name of its function in this module.
FUNCTIONS: dict[str, str] = {
    "NCT06945523": "nct06945523",
    "NCT07480213": "nct07480213",
    "vegfr1-pdl1-cart": "vegfr1_pdl1_cart",
    "c-car031-hcc": "c_car031_hcc",
    "th027-solid-tumors": "th027_solid_tumors",
}
