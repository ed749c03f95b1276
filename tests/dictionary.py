"""A small test dictionary written in critlang, so that language tests do not depend on std/."""

from __future__ import annotations

from critlang.semantics.dictionary import EMPTY
from critlang.trial import Trial, parse

DECLARATIONS = """\
lab ANC "Absolute neutrophil count": 10*9/L codes LOINC:751-8 plausible 0..100
lab platelets "Platelets": 10*9/L codes LOINC:777-3
lab hemoglobin "Hemoglobin": g/dL codes LOINC:718-7
lab ALT "Alanine aminotransferase": U/L codes LOINC:1742-6 accepts "[IU]/L" normal 0..40
lab bilirubin "Total bilirubin": mg/dL codes LOINC:1975-2 molar_mass 584.66 g/mol
lab creatinine "Creatinine": mg/dL codes LOINC:2160-0 molar_mass 113.12 g/mol
lab pregnancy_test "hCG": {positive, negative}
fact ECOG "ECOG performance status": integer 0..5
fact sex: {female, male, other, unknown}
fact childbearing_potential: boolean
fact weight: kg
fact height: cm
condition liver_metastases: codes ICD10:C78.7
condition malignancy: codes ICD10:C*
condition basal_cell_carcinoma: codes ICD10:C44.91
condition lung_cancer: codes ICD10:C34*
treatment chemotherapy: codes ATC:L01*
event live_vaccine
event seizure
anchor screening, treatment
"""


def trial(criteria: str) -> Trial:
    """A trial with the test declarations and the given criteria text."""
    return parse(DECLARATIONS + criteria, "test.crit", dictionary=EMPTY)


def record(**fields: object) -> dict[str, object]:
    """A record with a screening date of 2025-06-02 and whatever else is given."""
    base: dict[str, object] = {
        "id": "P",
        "anchors": {"screening": "2025-06-02", "treatment": "2025-06-20"},
    }
    base.update(fields)
    return base
