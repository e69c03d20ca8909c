"""Headset presets: channel names, sampling rate, electrode positions.

Presets are TOML files in ``configs/headsets/`` parsed once into frozen models. A montage
without sensors over the sensorimotor cortex gets a warning that the CLI and the API show.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from bci.config import load_registry, load_toml_model
from bci.errors import ConfigError
from bci.registry import Registry

__all__ = [
    "LEFT_MOTOR",
    "RIGHT_MOTOR",
    "Headset",
    "get_headset",
    "headset_names",
    "load_headset_file",
    "motor_coverage_warnings",
    "standard_montage",
    "standardize_label",
    "standardize_labels",
    "stream_positions",
]

# Sensors over the hand areas of each hemisphere and the midline (feet) area, 10-05 names.
LEFT_MOTOR = frozenset({"C3", "C1", "C5", "FC3", "FC1", "FC5", "CP3", "CP1", "CP5"})
RIGHT_MOTOR = frozenset({"C4", "C2", "C6", "FC4", "FC2", "FC6", "CP4", "CP2", "CP6"})
MIDLINE_MOTOR = frozenset({"Cz", "FCz", "CPz"})


class Headset(BaseModel):
    """A headset preset.

    Attributes
    ----------
    name : str
        Registry name, e.g. ``"openbci-cyton"``.
    sfreq : float
        Nominal sampling rate in Hz.
    ch_names : list of str
        EEG channel names in stream order (10-05 labels).
    montage : str or None
        MNE standard montage that gives the positions (None: the 10-05 template,
        see :func:`standard_montage`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    title: str
    sfreq: float = Field(gt=0)
    ch_names: tuple[str, ...] = Field(min_length=1)
    montage: str | None = None
    units: str = "microvolts"

    @field_validator("ch_names")
    @classmethod
    def _unique(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        dup = sorted({c for c in v if v.count(c) > 1})
        if dup:
            raise ValueError(f"channel names must be unique, repeated: {dup}")
        return v

    @property
    def n_channels(self) -> int:
        return len(self.ch_names)

    def warnings(self) -> list[str]:
        """Warnings about what this montage can decode."""
        return motor_coverage_warnings(self.ch_names, self.name)

    def positions(self) -> np.ndarray:
        """Electrode positions in metres, shape (n_channels, 3), from the MNE montage."""
        montage = standard_montage(self.montage)
        pos = montage.get_positions()["ch_pos"]
        lookup = {k.lower(): v for k, v in pos.items()}
        missing = [c for c in self.ch_names if c.lower() not in lookup]
        if missing:
            raise ConfigError(
                f"Headset {self.name!r}: channels {missing} have no position in montage "
                f"{self.montage!r}"
            )
        return np.array([lookup[c.lower()] for c in self.ch_names])


def standard_montage(name: str | None = None) -> mne.channels.DigMontage:  # noqa: F821
    """An MNE standard montage; ``None`` gives the 10-05 template under its current name.

    MNE 1.13 renamed ``standard_1005`` to ``colin27_1005`` (the old name warns).
    """
    import mne

    if name is None:
        return _template_1005().copy()  # cached: reading the template costs ~50 ms
    return mne.channels.make_standard_montage(name)


@lru_cache(maxsize=1)
def _template_1005() -> mne.channels.DigMontage:  # noqa: F821
    import mne

    available = mne.channels.get_builtin_montages()
    name = "colin27_1005" if "colin27_1005" in available else "standard_1005"
    return mne.channels.make_standard_montage(name)


@lru_cache(maxsize=1)
def _standard_names() -> dict[str, str]:
    """Lower-case 10-05 label -> its canonical spelling (``fcz`` -> ``FCz``)."""
    return {n.lower(): n for n in _template_1005().ch_names}


_PREFIXES = ("eeg ", "eeg-", "eeg_")
_SUFFIXES = ("-ref", "-le", "-ar", "-avg", "-a1", "-a2", "-m1", "-m2")


def standardize_label(label: str) -> str:
    """A channel label in its standard 10-05 spelling when it names a 10-05 position.

    EDF files pad labels with dots to four characters (``C3..``, ``Fc5.``), many amplifiers
    write ``EEG C3-REF``, and case varies (``FCZ``, ``fc5``); each of these becomes the 10-05
    name (``C3``, ``FC5``, ``FCz``). A label that names no 10-05 position comes back with only
    its padding (surrounding spaces and trailing dots) removed.

    Examples
    --------
    >>> [standardize_label(c) for c in ("C3..", "Fc5.", "FCZ", "EEG Cz-REF", "EMG1")]
    ['C3', 'FC5', 'FCz', 'Cz', 'EMG1']
    """
    core = str(label).strip().rstrip(".").strip()
    names = _standard_names()
    key = core.lower()
    if key in names:
        return names[key]
    for pre in _PREFIXES:
        if key.startswith(pre):
            key = key[len(pre) :].strip()
    for suf in _SUFFIXES:
        if key.endswith(suf):
            key = key[: -len(suf)]
    return names.get(key, core or str(label))


def standardize_labels(labels: list[str] | tuple[str, ...]) -> list[str]:
    """:func:`standardize_label` on each label; a label that would collide keeps its own text."""
    std = [standardize_label(c) for c in labels]
    return [
        (str(raw).strip() or name) if std.count(name) > 1 else name
        for raw, name in zip(labels, std, strict=True)
    ]


def stream_positions(
    ch_names: list[str] | tuple[str, ...],
    locations: list[tuple[float, float, float] | None] | None = None,
) -> tuple[np.ndarray, list[str]]:
    """Electrode positions: the stream's own where it gives them, else the 10-05 template.

    Parameters
    ----------
    ch_names : list of str
        Standardised labels (see :func:`standardize_labels`).
    locations : list of (x, y, z) or None, optional
        Positions in metres from the stream's ``desc`` (None where a channel has none).

    Returns
    -------
    positions : ndarray, shape (n_channels, 3)
        Metres; NaN for a channel with neither.
    origin : list of str
        Per channel ``"stream"``, ``"standard_1005"`` or ``"none"``.
    """
    template = {k.lower(): v for k, v in _template_1005().get_positions()["ch_pos"].items()}
    locs = locations if locations is not None and len(locations) == len(ch_names) else None
    pos = np.full((len(ch_names), 3), np.nan)
    origin: list[str] = []
    for i, ch in enumerate(ch_names):
        own = None if locs is None else locs[i]
        if own is not None:
            pos[i], kind = own, "stream"
        elif ch.lower() in template:
            pos[i], kind = template[ch.lower()], "standard_1005"
        else:
            kind = "none"
        origin.append(kind)
    return pos, origin


def motor_coverage_warnings(
    ch_names: tuple[str, ...] | list[str], name: str = "stream"
) -> list[str]:
    """Say why a montage cannot (fully) support motor decoding; empty if it can.

    Labels are standardised first, so EDF-style ``C3..`` counts as ``C3``.
    """
    chans = set(standardize_labels(list(ch_names)))
    left, right, mid = chans & LEFT_MOTOR, chans & RIGHT_MOTOR, chans & MIDLINE_MOTOR
    out: list[str] = []
    if not left and not right and not mid:
        out.append(
            f"{name}: no sensors over the sensorimotor cortex (C3/Cz/C4 or neighbours); "
            "motor imagery and mu-suppression measures will not work with this montage"
        )
    elif not (left and right):
        side = "left (C3 side)" if not left else "right (C4 side)"
        out.append(
            f"{name}: no sensors over the {side} hand area; left vs right hand decoding "
            "will be unreliable"
        )
    return out


def load_headset_file(path: str | Path) -> Headset:
    """Parse one headset TOML file; a bad file fails with the field named."""
    return load_toml_model(path, Headset, "Headset")


@lru_cache(maxsize=1)
def _registry() -> Registry[Headset]:
    return load_registry("headsets", Headset, "Headset")


def get_headset(name: str | Headset) -> Headset:
    """Resolve a headset preset by name (a :class:`Headset` passes through)."""
    if isinstance(name, Headset):
        return name
    return _registry().resolve(name)


def headset_names() -> list[str]:
    """Names of the shipped presets."""
    return _registry().names()
