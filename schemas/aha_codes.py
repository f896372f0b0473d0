"""The AHA statement table of the SPH data set's ``code.csv``: the one copy in the code.

``SPH_CODES``: (category, code, description) rows, 44 statements (categories A-M) and 15 modifiers
(category ``Modifier``, codes from 300), as in SPH's ``code.csv`` (Liu et al. 2022; AHA statement list,
Mason et al. 2007). The synthetic data sets and the overread export write it as ``code.csv``;
``interpretation.fusion.sph_descriptions`` names statements with it. A checkpoint carries its own label
list (``model.labels.Label``, read from the training folder's ``code.csv``).
"""

from __future__ import annotations

__all__ = ["SPH_CODES"]

SPH_CODES: tuple[tuple[str, int, str], ...] = (
    ("A", 1, "Normal ECG"), ("C", 21, "Sinus tachycardia"), ("C", 22, "Sinus bradycardia"),
    ("C", 23, "Sinus arrhythmia"), ("D", 30, "Atrial premature complex(es)"),
    ("D", 31, "Atrial premature complex(es), nonconducted"), ("D", 36, "Junctional premature complex(es)"),
    ("D", 37, "Junctional escape complex(es)"), ("E", 50, "Atrial fibrillation"), ("E", 51, "Atrial flutter"),
    ("E", 54, "Junctional tachycardia"), ("F", 60, "Ventricular premature complex(es)"),
    ("H", 80, "Short PR interval"), ("H", 81, "AV conduction ratio N:D"), ("H", 82, "Prolonged PR interval"),
    ("H", 83, "Second-degree AV block, Mobitz type I (Wenckebach)"),
    ("H", 84, "Second-degree AV block, Mobitz type II"), ("H", 85, "2:1 AV block"),
    ("H", 86, "AV block, varying conduction"), ("H", 87, "AV block, advanced (high-grade)"),
    ("H", 88, "AV block, complete (third-degree)"), ("I", 101, "Left anterior fascicular block"),
    ("I", 102, "Left posterior fascicular block"), ("I", 104, "Left bundle-branch block"),
    ("I", 105, "Incomplete right bundle-branch block"), ("I", 106, "Right bundle-branch block"),
    ("I", 108, "Ventricular preexcitation"), ("J", 120, "Right-axis deviation"), ("J", 121, "Left-axis deviation"),
    ("J", 125, "Low voltage"), ("K", 140, "Left atrial enlargement"), ("K", 142, "Left ventricular hypertrophy"),
    ("K", 143, "Right ventricular hypertrophy"), ("L", 145, "ST deviation"),
    ("L", 146, "ST deviation with T-wave change"), ("L", 147, "T-wave abnormality"),
    ("L", 148, "Prolonged QT interval"), ("L", 152, "TU fusion"),
    ("L", 153, "ST-T change due to ventricular hypertrophy"), ("L", 155, "Early repolarization"),
    ("M", 160, "Anterior MI"), ("M", 161, "Inferior MI"), ("M", 165, "Anteroseptal MI"),
    ("M", 166, "Extensive anterior MI"), ("Modifier", 308, "Occasional"), ("Modifier", 310, "Frequent"),
    ("Modifier", 330, "Acute"), ("Modifier", 331, "Recent"), ("Modifier", 332, "Old"),
    ("Modifier", 340, "Couplets"), ("Modifier", 341, "Bigeminal"), ("Modifier", 342, "Trigeminal"),
    ("Modifier", 346, "Rapid ventricular response"), ("Modifier", 347, "Slow ventricular response"),
    ("Modifier", 349, "Aberrancy"), ("Modifier", 350, "Polymorphic"), ("Modifier", 362, "Depression"),
    ("Modifier", 363, "Elevation"), ("Modifier", 367, "Inversion"),
)  # fmt: skip
