"""Decisions on LSL: an opt-in stage that publishes each decision as two LSL streams.

For LSL-native consumers (LabRecorder, OpenViBE, LSL4Unity games) that do not speak HTTP:

- ``bci-session-<id>-predictions-<instance>``: type ``Predictions``, float32, irregular
  rate, one channel per class (labelled with the class, unit ``probability``), one sample
  per decision stamped with the LSL time of the window's last sample. A withheld window
  (see :mod:`bci.online.quality_gate`) is a sample of NaN.
- ``bci-session-<id>-labels-<instance>``: type ``Markers``, string, the decided class, or
  ``withheld`` for a withheld window, at the same time.

The outlets are made at the first decision (the classes come from the model) and made anew
if a model with other classes is activated. Names and source ids come from
:func:`bci.streams.lsl.service_outlet_ids`.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from bci.online.messages import Message, Prediction, Withheld
from bci.online.stages import Stage, StageContext

__all__ = ["PredictionOutlet"]

logger = logging.getLogger(__name__)


class PredictionOutlet(Stage):
    """Publish every decision of the session on LSL (see the module docstring).

    Parameters
    ----------
    instance : str
        The service instance id (:meth:`bci.online.manager.SessionManager.instance`).
    session_id : str
    """

    order: ClassVar[int] = 60
    status_key: ClassVar[str | None] = "lsl_outlet"

    def __init__(self, instance: str, session_id: str) -> None:
        from bci.streams.lsl import service_outlet_ids

        self.name, self.source_id = service_outlet_ids(instance, session_id, "predictions")
        self.label_name, self.label_source_id = service_outlet_ids(instance, session_id, "labels")
        self.classes: list[str] = []
        self._outlet: Any = None
        self._labels: Any = None
        self.n_pushed = 0

    def _open(self, classes: list[str]) -> None:
        from bci.streams.lsl import get_pylsl, make_marker_info

        pylsl = get_pylsl()
        info = pylsl.StreamInfo(
            self.name,
            "Predictions",
            len(classes),
            pylsl.IRREGULAR_RATE,
            pylsl.cf_float32,
            self.source_id,
        )
        chans = info.desc().append_child("channels")
        for c in classes:
            ch = chans.append_child("channel")
            ch.append_child_value("label", c)
            ch.append_child_value("unit", "probability")
            ch.append_child_value("type", "Probability")
        self._outlet = pylsl.StreamOutlet(info)
        self._labels = pylsl.StreamOutlet(make_marker_info(self.label_name, self.label_source_id))
        self.classes = list(classes)

    def on_message(self, ctx: StageContext, message: Message) -> Message | None:
        try:
            if isinstance(message, Prediction):
                classes = list(message.probabilities)
                if classes != self.classes or self._outlet is None:
                    self._open(classes)
                self._outlet.push_sample([message.probabilities[c] for c in classes], message.t)
                self._labels.push_sample([message.label], message.t)
                self.n_pushed += 1
            elif isinstance(message, Withheld) and self._outlet is not None:
                self._outlet.push_sample([float("nan")] * len(self.classes), message.t)
                self._labels.push_sample(["withheld"], message.t)
                self.n_pushed += 1
        except Exception as exc:  # an LSL problem must not stop decoding
            ctx.warn(f"prediction outlet {self.name}: {exc}")
        return message

    def status(self) -> dict[str, Any]:
        return {
            "predictions": self.name,
            "labels": self.label_name,
            "classes": list(self.classes),
            "pushed": self.n_pushed,
        }

    def close(self) -> None:
        self._outlet = self._labels = None  # pylsl closes a stream when its outlet goes
