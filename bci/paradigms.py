"""Paradigms: the classes of a task, their cues, the synthetic condition each drives, timing.

Paradigm files live in ``configs/paradigms/*.toml`` and are parsed once into frozen models.
A condition is what the brain does during a trial (``imagine_left``, ``observe``, ``rest``...);
the synthetic headset knows how each condition changes the sensorimotor rhythms.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bci.config import load_registry, load_toml_model
from bci.registry import Registry

__all__ = [
    "CONDITIONS",
    "ClassSpec",
    "Paradigm",
    "Timing",
    "get_paradigm",
    "load_paradigm_file",
    "paradigm_names",
]

#: Every brain state a paradigm can ask for. ``imagine_*`` = motor imagery, ``observe*`` =
#: action observation (watching a hand action), ``execute_*`` = executed movement.
CONDITIONS = (
    "rest",
    "imagine_left",
    "imagine_right",
    "imagine_hands",
    "imagine_feet",
    "observe",
    "observe_imagine",
    "execute_left",
    "execute_right",
    "execute_hands",
    "execute_feet",
)


class ClassSpec(BaseModel):
    """One class of a paradigm."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    label: str = Field(min_length=1)
    condition: str
    cue: str = ""
    marker: str = ""

    @model_validator(mode="after")
    def _check(self) -> ClassSpec:
        if self.condition not in CONDITIONS:
            raise ValueError(
                f"unknown condition {self.condition!r}; must be one of: {', '.join(CONDITIONS)}"
            )
        if not self.marker:
            object.__setattr__(self, "marker", self.label)
        return self


class Timing(BaseModel):
    """Trial timing in seconds, relative to the cue onset."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fixation_s: float = Field(1.0, ge=0)
    trial_s: float = Field(4.0, gt=0)
    rest_s: float = Field(2.0, ge=0)
    jitter_s: float = Field(0.5, ge=0)
    # The epoch used to train a decoder, relative to the cue.
    tmin: float = 0.5
    tmax: float = 2.5
    # The pre-cue baseline interval for ERD / mu-suppression measures.
    baseline: tuple[float, float] = (-1.0, 0.0)

    @model_validator(mode="after")
    def _check(self) -> Timing:
        if self.tmax <= self.tmin:
            raise ValueError(f"tmax ({self.tmax}) must be greater than tmin ({self.tmin})")
        if self.tmax > self.trial_s:
            raise ValueError(f"tmax ({self.tmax}) must not exceed trial_s ({self.trial_s})")
        if self.baseline[1] <= self.baseline[0]:
            raise ValueError(f"baseline {self.baseline} must be (start, end) with start < end")
        return self


class Paradigm(BaseModel):
    """A named task: its classes and timing."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    title: str
    kind: str = "motor-imagery"
    classes: tuple[ClassSpec, ...] = Field(min_length=2)
    timing: Timing = Timing()
    trials_per_class: int = Field(20, ge=2)

    @model_validator(mode="after")
    def _unique(self) -> Paradigm:
        labels = [c.label for c in self.classes]
        if len(set(labels)) != len(labels):
            raise ValueError(f"class labels must be unique, got {labels}")
        return self

    @property
    def labels(self) -> list[str]:
        return [c.label for c in self.classes]

    def by_marker(self) -> dict[str, ClassSpec]:
        """Map marker string -> class."""
        return {c.marker: c for c in self.classes}


def load_paradigm_file(path: str | Path) -> Paradigm:
    """Parse one paradigm TOML file; a bad file fails with the field named."""
    return load_toml_model(path, Paradigm, "Paradigm")


@lru_cache(maxsize=1)
def _registry() -> Registry[Paradigm]:
    return load_registry("paradigms", Paradigm, "Paradigm")


def get_paradigm(name: str | Paradigm) -> Paradigm:
    """Resolve a paradigm by name (a :class:`Paradigm` passes through)."""
    if isinstance(name, Paradigm):
        return name
    return _registry().resolve(name)


def paradigm_names() -> list[str]:
    return _registry().names()
