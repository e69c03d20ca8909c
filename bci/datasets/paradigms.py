"""Dataset paradigms: which runs and which annotations of a dataset make each class.

These are offline views of public datasets (today PhysioNet eegmmidb via
:mod:`bci.datasets.eegbci`); the live task definitions (cues, timing, synthetic conditions) are
:mod:`bci.paradigms`. Names are shared where the task is the same (``imagery-left-right``).
"""

from __future__ import annotations

from dataclasses import dataclass

from bci.registry import Registry

__all__ = ["DatasetParadigm", "eegbci_paradigm_names", "get_eegbci_paradigm"]


@dataclass(frozen=True)
class DatasetParadigm:
    """Which runs of a dataset to read, and which annotation means which class.

    Attributes
    ----------
    name : str
        Paradigm name (``"imagery-left-right"``).
    title : str
    blocks : tuple of (tuple of int, dict of str to str)
        Each block: run numbers, and annotation -> class label for those runs (annotations
        not named are ignored).
    moabb : str or None
        The MOABB within-session result table this paradigm is compared with (the stem of
        ``moabb_within_session_mi_<moabb>.csv``), or None.
    moabb_note : str
        How MOABB's task differs from ours, if it does.
    """

    name: str
    title: str
    blocks: tuple[tuple[tuple[int, ...], dict[str, str]], ...]
    moabb: str | None = None
    moabb_note: str = ""

    @property
    def runs(self) -> list[int]:
        """All runs read, in order."""
        return [r for runs, _ in self.blocks for r in runs]

    @property
    def labels(self) -> list[str]:
        """Class labels, sorted."""
        return sorted({lab for _, m in self.blocks for lab in m.values()})


_LR_IMAGINED = (4, 8, 12)
_HF_IMAGINED = (6, 10, 14)
_LR_EXECUTED = (3, 7, 11)

_EEGBCI: Registry[DatasetParadigm] = Registry("eegbci paradigm")
for _p in (
    DatasetParadigm(
        "imagery-left-right",
        "Imagined left vs right fist",
        ((_LR_IMAGINED, {"T1": "left", "T2": "right"}),),
        moabb="left_vs_right_hand",
    ),
    DatasetParadigm(
        "imagery-hands-feet",
        "Imagined both fists vs both feet",
        ((_HF_IMAGINED, {"T1": "hands", "T2": "feet"}),),
        moabb="right_hand_vs_feet",
        moabb_note="MOABB's table is right hand vs feet (hand trials from runs 4/8/12)",
    ),
    DatasetParadigm(
        "executed-left-right",
        "Executed left vs right fist",
        ((_LR_EXECUTED, {"T1": "left", "T2": "right"}),),
    ),
    DatasetParadigm(
        "imagery-4class",
        "Imagined left fist, right fist, both fists, both feet",
        (
            (_LR_IMAGINED, {"T1": "left", "T2": "right"}),
            (_HF_IMAGINED, {"T1": "hands", "T2": "feet"}),
        ),
        moabb="all_classes",
        moabb_note="MOABB's all-classes table also counts its rest class",
    ),
    DatasetParadigm(
        "movement-rest",
        "Imagined movement (any fist/feet cue) vs rest between cues",
        (
            (_LR_IMAGINED, {"T1": "move", "T2": "move", "T0": "rest"}),
            (_HF_IMAGINED, {"T1": "move", "T2": "move", "T0": "rest"}),
        ),
    ),
):
    _EEGBCI.register(_p.name, _p)


def get_eegbci_paradigm(name: str | DatasetParadigm) -> DatasetParadigm:
    """Resolve an eegbci paradigm by name ("Unknown eegbci paradigm 'x'. Must be one of: ...")."""
    if isinstance(name, DatasetParadigm):
        return name
    return _EEGBCI.resolve(name)


def eegbci_paradigm_names() -> list[str]:
    return _EEGBCI.names()
