"""One status for a claim from the statuses of its parts (atoms, or the tool's sentences inside a labelled span).

``partial`` comes from here: some parts supported, others not. A single part is
never partial because it shares the event's topic; that is the judge's own call.
"""

from __future__ import annotations

from collections.abc import Sequence

from divergence.datamodel import Status


def combine(statuses: Sequence[Status]) -> Status:
    """Contradicted if any part is; supported if all are; absent if none is covered; partial otherwise."""
    if not statuses:
        return Status.absent
    if Status.contradicted in statuses:
        return Status.contradicted
    if all(s is Status.supported for s in statuses):
        return Status.supported
    if all(s is Status.absent for s in statuses):
        return Status.absent
    return Status.partial
