"""Handheld presumptive identification of unknown substances from Raman spectra.

Read a spectrum (``read_spectrum``), identify it against the reference library
(``identify``: verdict, components with fractions and supporting peaks, action), manage
the library (``default_library``, ``load_library``, ``add_to_library_file``), co-add
acquisitions of one sample (``coadd``, ``identify_acquisitions``; an inconclusive answer
says how many it needs: ``Remeasure``) and reproduce the evaluation (``evaluate``). See
docs/fieldid.md.
"""

from portwatch.fieldid.acquisitions import coadd, identify_acquisitions
from portwatch.fieldid.calibrate import calibrate
from portwatch.fieldid.evaluate import Report, evaluate
from portwatch.fieldid.identify import (
    Analysis,
    Identification,
    ReportedComponent,
    Thresholds,
    analyse,
    decide,
    identify,
    load_thresholds,
)
from portwatch.fieldid.library import (
    Library,
    Reference,
    add_to_library_file,
    build_default_library,
    default_library,
    load_library,
    measured_reference,
    save_library,
)
from portwatch.fieldid.mixtures import Component, Decomposition, decompose
from portwatch.fieldid.preprocess import (
    Crop,
    Despike,
    Normalize,
    Pipeline,
    RemoveBaseline,
    Resample,
    default_pipeline,
)
from portwatch.fieldid.readers import read_spectrum, write_columns
from portwatch.fieldid.remeasure import Remeasure
from portwatch.fieldid.search import Hit, PreparedLibrary, prepare, search
from portwatch.fieldid.spectrum import Spectrum

__all__ = [
    "Analysis",
    "Component",
    "Crop",
    "Decomposition",
    "Despike",
    "Hit",
    "Identification",
    "Library",
    "Normalize",
    "Pipeline",
    "PreparedLibrary",
    "Reference",
    "Remeasure",
    "RemoveBaseline",
    "ReportedComponent",
    "Report",
    "Resample",
    "Spectrum",
    "Thresholds",
    "add_to_library_file",
    "analyse",
    "build_default_library",
    "calibrate",
    "coadd",
    "decide",
    "decompose",
    "default_library",
    "default_pipeline",
    "evaluate",
    "identify",
    "identify_acquisitions",
    "load_library",
    "load_thresholds",
    "measured_reference",
    "prepare",
    "read_spectrum",
    "save_library",
    "search",
    "write_columns",
]
