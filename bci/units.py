"""Physical units of EEG channels: what a stream declares, and the factor to microvolts.

Sources spell units many ways: ``microvolts`` (the XDF meta-data convention, LabRecorder,
OpenBCI), ``uV``/``µV``, ``V``, ``mV``, ``nV``, and mne-lsl writes MNE's unit multiplier as an
integer power of ten of the channel's SI unit (``"0"`` for volts, ``"-6"`` for microvolts).
Everything inside ``bci`` works in microvolts; :func:`uv_scale` gives the factor that takes a
declared unit there, and ``None`` when the unit is unknown (the caller then keeps the values,
takes them as microvolts and says so).
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["MICROVOLTS", "VOLTAGE_UNITS", "unit_scales", "uv_scale"]

#: The unit of every voltage inside ``bci`` (signal, buffers, models, quality thresholds).
MICROVOLTS = "microvolts"

#: Declared unit (lower case, spaces stripped) -> factor to microvolts.
VOLTAGE_UNITS: dict[str, float] = {
    "v": 1e6,
    "volt": 1e6,
    "volts": 1e6,
    "mv": 1e3,
    "millivolt": 1e3,
    "millivolts": 1e3,
    "uv": 1.0,
    "µv": 1.0,  # micro sign U+00B5
    "μv": 1.0,  # greek mu U+03BC
    "microvolt": 1.0,
    "microvolts": 1.0,
    "nv": 1e-3,
    "nanovolt": 1e-3,
    "nanovolts": 1e-3,
}

# mne-lsl's integer unit multipliers (a power of ten of volts for voltage channels).
_EXPONENTS = {0: 1e6, -3: 1e3, -6: 1.0, -9: 1e-3}


def uv_scale(unit: str | None) -> float | None:
    """The factor that turns values in ``unit`` into microvolts.

    Parameters
    ----------
    unit : str or None
        As the stream declares it (``"microvolts"``, ``"uV"``, ``"V"``, ``"-6"``...).

    Returns
    -------
    scale : float or None
        ``None`` for a missing or unknown unit.

    Examples
    --------
    >>> uv_scale("V"), uv_scale("µV"), uv_scale("0"), uv_scale("furlongs")
    (1000000.0, 1.0, 1000000.0, None)
    """
    if unit is None:
        return None
    key = "".join(str(unit).split()).lower()
    if not key:
        return None
    if key in VOLTAGE_UNITS:
        return VOLTAGE_UNITS[key]
    try:
        return _EXPONENTS.get(int(key))
    except ValueError:
        return None


def unit_scales(units: Sequence[str | None], n_channels: int) -> tuple[list[float], list[int]]:
    """Per-channel factors to microvolts, and the channels whose unit is unknown or missing.

    Parameters
    ----------
    units : sequence of str or None
        Declared unit per channel; an empty sequence means no channel declares one.
    n_channels : int

    Returns
    -------
    scales : list of float, length n_channels
        1.0 where the unit is unknown (the values are taken as microvolts).
    unknown : list of int
        Indices of the channels whose unit is unknown or missing.
    """
    declared = list(units) if len(units) == n_channels else [None] * n_channels
    scales: list[float] = []
    unknown: list[int] = []
    for i, u in enumerate(declared):
        s = uv_scale(u)
        if s is None:
            unknown.append(i)
            s = 1.0
        scales.append(s)
    return scales, unknown
