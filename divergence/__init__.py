"""divergence: how different outlets tell the same event, claim by claim."""

from divergence.config import Settings, load_settings
from divergence.datamodel import Claim, Document, Event, Judgement, Report, ScoreReport, Status
from divergence.pipeline import analyze, cluster, compare, score
from divergence.runtime import Runtime

__version__ = "0.1.0"
__all__ = ["Claim", "Document", "Event", "Judgement", "Report", "Runtime", "ScoreReport", "Settings", "Status", "analyze", "cluster", "compare", "load_settings", "score"]
