"""Request and response schemas of the public API (v1). Internal data classes stay separate."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

__all__ = [
    "BaselineIn",
    "CalibrationIn",
    "CalibrationOut",
    "ConditionIn",
    "EventIn",
    "EventOut",
    "HealthOut",
    "MarkerMessage",
    "MuSuppressionIn",
    "PredictionMessage",
    "SessionCreate",
    "SessionOut",
    "StatusMessage",
    "StreamOut",
]


class HealthOut(BaseModel):
    status: Literal["ok"] = "ok"
    version: str
    sessions: int
    liblsl: bool


class StreamOut(BaseModel):
    name: str
    type: str
    n_channels: int
    sfreq: float = Field(description="Nominal sampling rate in Hz (0 = irregular)")
    source_id: str
    channel_format: str
    hostname: str
    uid: str
    ch_names: list[str] = Field(description="Labels standardised to 10-05 spelling")
    units: list[str] = Field(
        default_factory=list,
        description="Each channel's unit as the stream declares it ('' = none declared; "
        "the service converts V, mV, µV and nV to µV and takes anything else as µV)",
    )
    ch_types: list[str] = Field(default_factory=list)
    source_ch_names: list[str] = Field(default_factory=list, description="Labels as sent")
    locations: list[list[float] | None] = Field(
        default_factory=list, description="Positions (m) from the stream's desc, if any"
    )
    warnings: list[str] = []


class SessionCreate(BaseModel):
    """Bind an LSL stream (by name, type and/or source_id) to a new decoding session."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, description="LSL stream name")
    type: str | None = Field(None, min_length=1, description="LSL stream type, e.g. EEG")
    source_id: str | None = Field(None, min_length=1)
    pipeline: str | None = Field(None, description="Pipeline used by a later calibration")
    model_id: str | None = Field(None, description="A stored model to activate now")
    window_s: float | None = Field(None, gt=0, le=30)
    step_s: float | None = Field(None, gt=0, le=10)
    expected_channels: int | None = Field(None, ge=1)
    expected_sfreq: float | None = Field(None, gt=0)
    timeout: float = Field(2.0, gt=0, le=30, description="Seconds to wait for the stream")
    record: bool | None = Field(
        None, description="record raw EEG, markers and predictions (default: BCI_RECORD, on)"
    )
    markers: str | None = Field(
        None,
        min_length=1,
        description="LSL marker stream to record with the session; default: "
        "'<name>-markers' when such a stream exists",
    )
    marker_map: dict[
        Annotated[str, StringConstraints(min_length=1, max_length=64)],
        Annotated[str, StringConstraints(min_length=1, max_length=64)],
    ] = Field(
        default_factory=dict,
        max_length=64,
        description="the source's own marker -> the class marker it stands for, e.g. "
        "{'T1': 'left', 'T2': 'right'}: the stream's annotations then drive an app-mode "
        "calibration ('cues': 'app') and appear as 'mapped' in marker messages",
    )
    lsl_outlet: bool = Field(
        False,
        description="also publish each decision on LSL: 'bci-session-<id>-predictions-"
        "<instance>' (one float32 channel per class probability, NaN when withheld) and "
        "'bci-session-<id>-labels-<instance>' (the class, or 'withheld', as a string)",
    )
    dejitter: bool = Field(
        False,
        description="smooth the stream's timestamps with liblsl's dejitter (proc_dejitter); "
        "off by default, because smoothing hides the jumps that reveal dropped samples",
    )
    adaptation: Literal["none", "recenter", "supervised"] = Field(
        "none",
        description="Online adaptation: 'recenter' tracks the session's reference covariance "
        "from its own windows (no labels; needs a model with a re-centring step); "
        "'supervised' also refits on labelled trials (class markers), each refit a new "
        "model version",
    )

    @model_validator(mode="after")
    def _selector(self) -> SessionCreate:
        if not (self.name or self.type or self.source_id):
            raise ValueError("give at least one of 'name', 'type' or 'source_id'")
        return self


class SessionOut(BaseModel):
    id: str
    state: Literal["starting", "running", "stalled", "stopped", "error"]
    error: str | None
    warnings: list[str]
    stream: dict[str, Any]
    model: dict[str, Any] | None
    pipeline: str | None = None
    window_s: float
    step_s: float
    band: list[float]
    counts: dict[str, int]
    marker_map: dict[str, str] = {}
    last_prediction: dict[str, Any] | None
    quality: dict[str, Any] | None = Field(
        None,
        description="the quality gate: 'ok' of the latest window, its bad 'channels', "
        "'passed' and 'withheld' counts, and the 'last_withheld' message",
    )
    mu_suppression: dict[str, Any] | None = None
    recording: dict[str, Any] | None = None
    lsl_outlet: dict[str, Any] | None = Field(
        None, description="the LSL prediction outlets (POST /sessions lsl_outlet), if on"
    )
    adaptation: dict[str, Any] | None = Field(
        None,
        description="Online adaptation state: mode, guard, n_updates, drift (Riemannian "
        "distance of the reference from its warm-up value), versions of supervised refits",
    )
    websocket: str


class EventIn(BaseModel):
    """An event from a feedback app (a video starts, a trial ends)."""

    model_config = ConfigDict(extra="forbid")

    value: str = Field(min_length=1, max_length=200)
    t: float | None = Field(None, description="LSL time of the event; omitted = stamped on arrival")


class EventOut(BaseModel):
    t: float
    value: str
    source: str


class ConditionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    condition: str = Field(description="rest, imagine_left, imagine_right, observe, ...")
    marker: str | None = None
    auto_cues: bool = Field(
        False,
        description="keep the headset's own cue loop running (false: the command holds "
        "until the next one)",
    )


# WebSocket messages (JSON text frames), documented in OpenAPI and README.
class PredictionMessage(BaseModel):
    type: Literal["prediction"]
    session_id: str
    index: int = Field(description="1-based count of decisions in this session")
    t: float = Field(description="LSL time of the window's last sample")
    probabilities: dict[str, float]
    label: str
    model_id: str
    latency_ms: float = Field(description="LSL time of decision minus t")
    compute_ms: float = Field(description="decoder time per window")


class StatusMessage(BaseModel):
    type: Literal["status"]
    session_id: str
    state: str
    previous: str


class MarkerMessage(BaseModel):
    type: Literal["marker"]
    session_id: str
    t: float
    value: str
    source: str


class CalibrationIn(BaseModel):
    """Start a calibration run; durations default to the paradigm file's."""

    model_config = ConfigDict(extra="forbid")

    paradigm: str = "imagery-left-right"
    trials_per_class: int | None = Field(None, ge=2, le=200)
    pipeline: str | None = Field(
        None, description="default: the session's pipeline (POST /sessions), else ts-lr"
    )
    fixation_s: float | None = Field(None, ge=0, le=10)
    trial_s: float | None = Field(None, gt=0, le=30)
    rest_s: float | None = Field(None, ge=0, le=30)
    jitter_s: float | None = Field(None, ge=0, le=10)
    tmin: float | None = Field(None, ge=0, le=30, description="epoch start after the cue")
    tmax: float | None = Field(None, gt=0, le=30, description="epoch end after the cue")
    start_s: float = Field(1.0, ge=0, le=30)
    seed: int | None = None
    folds: int = Field(5, ge=2, le=20)
    cues: Literal["service", "app"] = Field(
        "service",
        description="'service': cues scheduled here and sent on the WebSocket and LSL; "
        "'app': the app reports each trial onset as an event named by the class marker "
        "(and '<marker>_end' at its offset), e.g. when an action video starts",
    )


class CalibrationOut(BaseModel):
    state: Literal["running", "fitting", "done", "failed", "cancelled"]
    paradigm: str
    pipeline: str
    classes: list[str]
    trial: int
    n_trials: int
    trials_collected: int
    trials_missed: int
    cues: str
    current: dict[str, Any] | None
    duration_s: float
    result: dict[str, Any] | None
    error: str | None


class MuSuppressionIn(BaseModel):
    """Turn on the mu-suppression neurofeedback value of a session."""

    model_config = ConfigDict(extra="forbid")

    channels: list[str] = Field(default_factory=lambda: ["C3", "Cz", "C4"], min_length=1)
    bands: dict[str, tuple[float, float]] = Field(
        default_factory=lambda: {"mu": (8.0, 13.0), "beta": (13.0, 30.0)}
    )
    smoothing: float = Field(0.5, ge=0, lt=1, description="weight of the previous value")
    window_s: float = Field(1.0, gt=0, le=10)
    step_s: float = Field(0.125, gt=0, le=10)
    baseline_markers: list[str] = Field(
        default_factory=list,
        description="markers that start a trial; the baseline_s before each is the baseline",
    )
    baseline_s: float = Field(1.0, gt=0, le=120)


class BaselineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seconds: float = Field(10.0, gt=0, le=120, description="last N seconds of signal")
