"""Run -> Diagnosis. Imports neither torch nor rich."""

from lossdoc.analysis.diagnose import diagnose
from lossdoc.analysis.model import Diagnosis, Finding

__all__ = ["diagnose", "Diagnosis", "Finding"]
