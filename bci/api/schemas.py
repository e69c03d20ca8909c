"""Request and response schemas of the public API (v1). Internal data classes stay separate."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

__all__ = [
    "MAX_BANDS",
    "MAX_CHANNELS",
    "BaselineIn",
    "CalibrationIn",
    "CalibrationOut",
    "ConditionIn",
    "EventIn",
    "EventOut",
    "HealthOut",
    "MarkerMessage",
    "ModelActivate",
    "ModelCardOut",
    "ModelTrainIn",
    "MuSuppressionIn",
    "PredictionMessage",
    "RecordingOut",
    "ReplayIn",
    "ReplayOut",
    "SessionCreate",
    "SessionOut",
    "StatusMessage",
    "StreamOut",
    "SyntheticOut",
    "session_out",
]

#: Upper bounds of lists in requests, whatever the stream (a stream's own count is checked too).
MAX_CHANNELS = 512
MAX_BANDS = 8
Name = Annotated[str, Field(min_length=1, max_length=200)]


class In(BaseModel):
    """Base of every request body: unknown fields refused, numbers finite, never a boolean."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _no_bool_numbers(cls, data: Any) -> Any:
        # pydantic's lax mode reads true/false as 1/0 in a number field; a client that sends
        # a boolean for a time or a count has made a mistake worth naming
        if isinstance(data, dict):
            for name, field in cls.model_fields.items():
                value = data.get(name)
                if isinstance(value, bool) and "bool" not in str(field.annotation):
                    raise ValueError(f"{name}: expected a number, got {value!r}")
        return data


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


class SessionCreate(In):
    """Bind an LSL stream (by name, type and/or source_id) to a new decoding session."""

    name: Name | None = Field(None, description="LSL stream name")
    type: Name | None = Field(None, description="LSL stream type, e.g. EEG")
    source_id: Name | None = None
    pipeline: Name | None = Field(None, description="Pipeline used by a later calibration")
    model_id: Name | None = Field(None, description="A stored model to activate now")
    window_s: float | None = Field(None, gt=0, le=30)
    step_s: float | None = Field(None, gt=0, le=10)
    expected_channels: int | None = Field(None, ge=1, le=4096)
    expected_sfreq: float | None = Field(None, gt=0, le=100_000)
    timeout: float = Field(
        2.0, gt=0, le=5, description="Seconds to wait for the stream (and its marker stream)"
    )
    record: bool | None = Field(
        None, description="record raw EEG, markers and predictions (default: BCI_RECORD, on)"
    )
    markers: Name | None = Field(
        None,
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
        "distance of the reference from its warm-up value), versions of supervised refits, "
        "'refit_paused' (why refits wait: trials labelled in blocks of one class)",
    )
    websocket: str


class EventIn(In):
    """An event from a feedback app (a video starts, a trial ends)."""

    value: str = Field(min_length=1, max_length=200)
    t: float | None = Field(None, description="LSL time of the event; omitted = stamped on arrival")


class EventOut(BaseModel):
    t: float
    value: str
    source: str


class ConditionIn(In):
    condition: Name = Field(description="rest, imagine_left, imagine_right, observe, ...")
    marker: Name | None = None
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


class CalibrationIn(In):
    """Start a calibration run; durations default to the paradigm file's."""

    paradigm: Name = "imagery-left-right"
    trials_per_class: int | None = Field(None, ge=2, le=200)
    pipeline: Name | None = Field(
        None, description="default: the session's pipeline (POST /sessions), else ts-lr"
    )
    fixation_s: float | None = Field(None, ge=0, le=10)
    trial_s: float | None = Field(None, gt=0, le=30)
    rest_s: float | None = Field(None, ge=0, le=30)
    jitter_s: float | None = Field(None, ge=0, le=10)
    tmin: float | None = Field(None, ge=0, le=30, description="epoch start after the cue")
    tmax: float | None = Field(None, gt=0, le=30, description="epoch end after the cue")
    start_s: float = Field(1.0, ge=0, le=30)
    seed: int | None = Field(None, ge=0, le=2**32 - 1)
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


class MuSuppressionIn(In):
    """Turn on the mu-suppression neurofeedback value of a session.

    ``channels`` may name at most the stream's channels (each once); at most 8 ``bands``,
    each ``[low, high]`` in Hz with 0 < low < high < Nyquist.
    """

    channels: list[Name] = Field(
        default_factory=lambda: ["C3", "Cz", "C4"], min_length=1, max_length=MAX_CHANNELS
    )
    bands: dict[Name, tuple[float, float]] = Field(
        default_factory=lambda: {"mu": (8.0, 13.0), "beta": (13.0, 30.0)},
        min_length=1,
        max_length=MAX_BANDS,
    )
    smoothing: float = Field(0.5, ge=0, lt=1, description="weight of the previous value")
    window_s: float = Field(1.0, gt=0, le=10)
    step_s: float = Field(0.125, gt=0, le=10)
    baseline_markers: list[Name] = Field(
        default_factory=list,
        max_length=64,
        description="markers that start a trial; the baseline_s before each is the baseline",
    )
    baseline_s: float = Field(1.0, gt=0, le=120)


class BaselineIn(In):
    seconds: float = Field(10.0, gt=0, le=120, description="last N seconds of signal")


def session_out(status: dict[str, Any]) -> SessionOut:
    """The public view of a session status from the service."""
    return SessionOut(**status, websocket=f"/ws/sessions/{status['id']}")


class ModelCardOut(BaseModel):
    """The model card: what a model was trained on and how well it did."""

    id: str
    created: str = Field(description="ISO 8601 time of training (UTC)")
    pipeline: str = Field(description="Registered pipeline name, e.g. ts-lr")
    params: dict[str, Any] = Field(description="Pipeline parameters and extra CV results")
    classes: list[str] = Field(description="Labels, in the order of the probabilities")
    ch_names: list[str] = Field(description="Channels, in the order the model expects")
    sfreq: float = Field(description="Sampling rate in Hz")
    band: list[float] = Field(description="Causal band-pass [low, high] in Hz")
    window_s: float = Field(description="Window length in seconds")
    cv_score: float | None
    cv_metric: str | None = Field(description="roc_auc (two classes) or accuracy")
    n_trials: int
    fingerprint: str = Field(description="SHA-256 prefix of the training epochs and labels")
    paradigm: str | None
    versions: dict[str, str] = Field(description="Library versions at training time")
    source: dict[str, Any] | None = Field(
        None,
        description="The recording a model was trained on (file, sha256, format, events, "
        "tmin, tmax, units, trials per class); null for a live calibration",
    )
    pipeline_sha256: str = Field(description="SHA-256 of the stored pipeline")
    size_bytes: int = Field(description="Size of the model file")
    active_in: list[str] = Field([], description="Ids of the sessions using this model now")


class ModelTrainIn(In):
    """Train a model on a stored recording's own markers (``bci train`` over HTTP)."""

    recording: str = Field(
        min_length=1,
        max_length=255,
        description="A file in the recordings folder (GET /recordings)",
    )
    events: dict[Name, Name] = Field(
        min_length=2,
        max_length=16,
        description="Marker value -> class label, e.g. {'T1': 'left', 'T2': 'right'}",
    )
    pipeline: Name = Field("ts-lr", description="Registered pipeline name")
    tmin: float = Field(0.5, ge=-5, le=30, description="Trial start after the marker (s)")
    tmax: float = Field(2.5, gt=-5, le=30, description="Trial end after the marker (s)")
    band: tuple[float, float] | None = Field(
        None, description="Causal band-pass [low, high] Hz; default: the pipeline's"
    )
    folds: int = Field(5, ge=2, le=20)


class ModelActivate(In):
    model_id: Name


class RecordingOut(BaseModel):
    file: str = Field(description="File name in the recordings folder")
    bytes: int
    modified: float = Field(description="Modification time, Unix seconds")
    recording_session: str | None = Field(description="Session recording into it now")


class ReplayIn(In):
    path: str = Field(
        min_length=1,
        max_length=4096,
        description="a recording name from GET /recordings, or a file under BCI_REPLAY_ROOTS "
        "(relative to a root, or absolute); anything else is 404",
    )
    speed: Annotated[float, Field(gt=0, le=1000)] | Literal["max"] = Field(
        1.0, description="1 = real time, N = N times faster, 'max'"
    )
    loop: bool = False
    name: Name | None = Field(None, description="LSL stream name")


class ReplayOut(BaseModel):
    name: str
    markers: str = Field(description="Name of the marker stream")
    done: bool
    samples_pushed: int
    error: str | None = Field(description="Class of the error that stopped the replay")


class SyntheticOut(BaseModel):
    name: str
    condition: str
    auto_cues: bool
