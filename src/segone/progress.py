"""The one progress type of long jobs (imports, refreshes, training, the demo).

A job takes a ``Progress`` callable and calls it with the stage it is in, how much of the stage is done
and the stage's total (``None`` when unknown). The CLI draws the calls as a bar (``cli.common.progress_bar``);
a ``ProgressTracker`` keeps the latest call as a ``ProgressStatus`` that an API job status can report.
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel, Field, computed_field

Progress = Callable[[str, int, int | None], None]


def silent(stage: str, done: int, total: int | None) -> None:
    """The progress of a job nobody watches."""


class ProgressStatus(BaseModel):
    stage: str = Field(description="What the job is doing now.")
    done: int = Field(description="How much of the stage is done.")
    total: int | None = Field(description="How much the stage has to do; null when not known.")

    @computed_field(description="done / total, at most 1; null when the total is not known.")  # type: ignore[prop-decorator]
    @property
    def fraction(self) -> float | None:
        if not self.total:
            return None
        return min(1.0, self.done / self.total)


class ProgressTracker:
    """A ``Progress`` that remembers where the job is, for a status page or an API job."""

    def __init__(self) -> None:
        self.status: ProgressStatus | None = None
        self.stages: list[str] = []

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        if not self.stages or self.stages[-1] != stage:
            self.stages.append(stage)
        self.status = ProgressStatus(stage=stage, done=done, total=total)
