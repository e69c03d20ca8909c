"""Every WebSocket message, one typed model each: the single source for the wire and the docs.

A session's stages return these models; the session hands the same object to every
subscriber and the WebSocket fan-out encodes it once (:meth:`Message.to_json`). Non-finite
floats never reach the wire: fields that can be undefined (a band power of a flat channel,
a cross-validation score of a failed fit) are ``float | None`` and a NaN/inf becomes
``null``; any other float is serialised with ``ser_json_inf_nan="null"`` as a last guard.

Server -> client: :class:`Hello`, :class:`Prediction`, :class:`Withheld`, :class:`Status`,
:class:`MarkerMessage`, :class:`ModelMessage`, :class:`Cue`, :class:`CalibrationMessage`,
:class:`MuSuppression`, :class:`Signal`, :class:`EventAck`, :class:`ErrorMessage`,
:class:`Pong`. Client -> server: :class:`EventIn`, :class:`Ping`.

:func:`asyncapi_document` describes them as an AsyncAPI 3.0 document (``docs/asyncapi.json``,
served at ``GET /asyncapi.json``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

__all__ = [
    "CLIENT_MESSAGES",
    "SERVER_MESSAGES",
    "CalibrationMessage",
    "Cue",
    "ErrorMessage",
    "EventAck",
    "EventIn",
    "Hello",
    "MarkerMessage",
    "Message",
    "ModelMessage",
    "MuSuppression",
    "Ping",
    "Pong",
    "Prediction",
    "Signal",
    "Status",
    "Withheld",
    "asyncapi_document",
    "asyncapi_json",
    "write_asyncapi",
]


def _finite_or_none(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


#: A float that is ``null`` on the wire when undefined (NaN or infinite).
MaybeFloat = Annotated[float | None, BeforeValidator(_finite_or_none)]


class Message(BaseModel):
    """Base of every message: frozen, no extra fields, ``type`` first on the wire.

    Fields can also be read like the JSON object the client receives (``msg["t"]``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", ser_json_inf_nan="null")

    type: str
    #: One line for the docs (AsyncAPI ``summary``).
    summary: ClassVar[str] = ""

    def __getitem__(self, key: str) -> Any:
        if key not in type(self).model_fields:
            raise KeyError(key)
        return getattr(self, key)

    def to_json(self) -> str:
        """The JSON text frame (NaN and infinities as ``null``)."""
        return self.model_dump_json()

    def to_dict(self) -> dict[str, Any]:
        """The JSON object as Python data (what a client's ``json.loads`` returns)."""
        return self.model_dump(mode="json")


class Hello(Message):
    summary: ClassVar[str] = "First message on connect: the session's status."
    type: Literal["hello"] = "hello"
    session: dict[str, Any] = Field(description="as GET /sessions/{id}")


class Prediction(Message):
    summary: ClassVar[str] = "One decision of the active model on one window."
    type: Literal["prediction"] = "prediction"
    session_id: str
    index: int = Field(description="1-based count of decisions in this session")
    t: float = Field(description="LSL time of the window's last sample")
    probabilities: dict[str, float] = Field(description="class -> probability, summing to 1")
    label: str = Field(description="the most probable class")
    model_id: str
    latency_ms: float = Field(
        description="LSL time of the decision minus t, in ms, as measured: negative when "
        "the source stamps its samples ahead of this machine's clock (mne-lsl's Player does)"
    )
    compute_ms: float = Field(description="decoder time per window, in ms")


class Withheld(Message):
    summary: ClassVar[str] = (
        "A window was not decoded into a class because its signal is bad (flat, saturated, "
        "disconnected, non-finite or mains only): in place of a prediction."
    )
    type: Literal["withheld"] = "withheld"
    session_id: str
    index: int = Field(description="the decision this replaces (same count as predictions)")
    t: float = Field(description="LSL time of the window's last sample")
    model_id: str
    reason: str = Field(description="what is wrong and on which channels, one sentence")
    channels: dict[str, str] = Field(
        description="channel -> problem: non_finite, flat, saturated, disconnected, line_noise"
    )
    latency_ms: float = Field(description="LSL time of the verdict minus t, in ms")


class Status(Message):
    summary: ClassVar[str] = "The session's state changed."
    type: Literal["status"] = "status"
    session_id: str
    state: Literal["starting", "running", "stalled", "stopped", "error"]
    previous: Literal["starting", "running", "stalled", "stopped", "error"]


class MarkerMessage(Message):
    summary: ClassVar[str] = "An event on the LSL clock (stream marker, app event, cue)."
    type: Literal["marker"] = "marker"
    session_id: str
    t: float = Field(description="LSL time of the event")
    value: str = Field(description="the marker as its source sent it")
    source: str = Field(description="lsl, http, websocket, calibration, ...")
    stream: str | None = Field(None, description="the LSL marker stream it came from")
    mapped: str | None = Field(
        None, description="the class marker it stands for (the session's marker_map)"
    )


class ModelMessage(Message):
    summary: ClassVar[str] = "A model became active in the session."
    type: Literal["model"] = "model"
    session_id: str
    model_id: str


class Cue(Message):
    summary: ClassVar[str] = "A calibration phase starts: fixation, cue (imagine/observe), rest."
    type: Literal["cue"] = "cue"
    session_id: str
    phase: Literal["fixation", "cue", "rest"]
    t: float = Field(description="LSL time of the phase start")
    trial: int = Field(description="1-based trial number")
    n_trials: int
    cues: Literal["service", "app"]
    label: str | None = Field(description="the class asked for (cue phase only)")
    cue: str = Field(description="text to show: the class's cue, '+' at fixation, '' at rest")


class CalibrationMessage(Message):
    summary: ClassVar[str] = "A calibration run changed state (running, fitting, done, ...)."
    type: Literal["calibration"] = "calibration"
    session_id: str
    state: Literal["running", "fitting", "done", "failed", "cancelled"]
    progress: dict[str, Any] | None = Field(None, description="as GET .../calibration")
    result: dict[str, Any] | None = Field(None, description="model id and scores when done")
    error: str | None = None


class MuSuppression(Message):
    summary: ClassVar[str] = "One mu-suppression value: log10(power / baseline power)."
    type: Literal["mu_suppression"] = "mu_suppression"
    session_id: str
    t: float = Field(description="LSL time of the window's last sample")
    channels: dict[str, dict[str, MaybeFloat]] = Field(description="channel -> band -> index")
    index: MaybeFloat = Field(description="mean index in the index band over the channels")
    smoothed: MaybeFloat
    band: str = Field(description="the index band")
    occipital_alpha: MaybeFloat
    occipital: dict[str, MaybeFloat]
    n_windows: int


class Signal(Message):
    summary: ClassVar[str] = "Decimated raw traces, channel quality and band power (?signal=1)."
    type: Literal["signal"] = "signal"
    session_id: str
    index: int = Field(description="absolute sample index after the last sample included")
    t_emit: float = Field(description="LSL time of the emission")
    sfreq: float = Field(description="points per second of the decimated traces")
    t: list[float] = Field(description="LSL time of each point")
    data: list[list[float]] = Field(description="(n_channels, n_points), stream unit (µV)")
    ch_names: list[str]
    quality: dict[str, Literal["ok", "flat", "saturated", "line_noise", "noisy"]]
    band_power: dict[str, dict[str, MaybeFloat]]


class EventAck(Message):
    summary: ClassVar[str] = "Reply to an event: the LSL time it was stamped with."
    type: Literal["event_ack"] = "event_ack"
    t: float
    value: str


class ErrorMessage(Message):
    summary: ClassVar[str] = "A client message was refused, or the session does not exist."
    type: Literal["error"] = "error"
    detail: str


class Pong(Message):
    summary: ClassVar[str] = "Reply to a ping."
    type: Literal["pong"] = "pong"


class EventIn(Message):
    summary: ClassVar[str] = "An app event, stamped on the LSL clock (now unless t is given)."
    type: Literal["event"] = "event"
    value: str = Field(min_length=1, max_length=200)
    t: float | None = Field(None, description="LSL time of the event")


class Ping(Message):
    summary: ClassVar[str] = "Keep-alive; the server answers pong."
    type: Literal["ping"] = "ping"


#: Messages the server sends, in the order of the docs.
SERVER_MESSAGES: tuple[type[Message], ...] = (
    Hello,
    Prediction,
    Withheld,
    Status,
    MarkerMessage,
    ModelMessage,
    Cue,
    CalibrationMessage,
    MuSuppression,
    Signal,
    EventAck,
    ErrorMessage,
    Pong,
)
#: Messages a client may send.
CLIENT_MESSAGES: tuple[type[Message], ...] = (EventIn, Ping)


def _type_name(cls: type[Message]) -> str:
    default = cls.model_fields["type"].default
    assert isinstance(default, str)  # every concrete message fixes its type
    return default


def asyncapi_document(version: str = "0") -> dict[str, Any]:
    """The AsyncAPI 3.0 document of the session WebSocket, built from the message models.

    Parameters
    ----------
    version : str
        The service version (``info.version``).

    Returns
    -------
    document : dict
        JSON-ready; ``components.schemas[<type>]`` is each message's JSON schema, with
        ``$ref`` pointing into ``components.schemas``.
    """
    schemas: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for cls in (*SERVER_MESSAGES, *CLIENT_MESSAGES):
        name = _type_name(cls)
        schema = cls.model_json_schema(
            ref_template="#/components/schemas/{model}", mode="serialization"
        )
        for key, sub in schema.pop("$defs", {}).items():
            schemas[key] = sub
        if cls in SERVER_MESSAGES:  # the service always sends every field
            schema["required"] = list(cls.model_fields)
        schemas[name] = schema
        messages[name] = {
            "name": name,
            "title": cls.__name__,
            "summary": cls.summary,
            "contentType": "application/json",
            "payload": {"$ref": f"#/components/schemas/{name}"},
        }
    schemes = _security_schemes()
    out_refs = [{"$ref": f"#/channels/session/messages/{_type_name(c)}"} for c in SERVER_MESSAGES]
    in_refs = [{"$ref": f"#/channels/session/messages/{_type_name(c)}"} for c in CLIENT_MESSAGES]
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "bci session WebSocket",
            "version": version,
            "description": (
                "Predictions, status, markers, calibration cues, mu-suppression values and "
                "signal frames of one decoding session, as JSON text frames; app events in. "
                "Add ?signal=1 to receive signal frames. Every connection needs the service "
                "token (see the security schemes): without it, or with a wrong one, the "
                "handshake is refused (close code 4401)."
            ),
        },
        "servers": {
            "local": {
                "host": "127.0.0.1:8000",
                "protocol": "ws",
                "description": "bci serve",
                "security": [{"$ref": f"#/components/securitySchemes/{k}"} for k in schemes],
            }
        },
        "channels": {
            "session": {
                "address": "/ws/sessions/{session_id}",
                "parameters": {"session_id": {"description": "id from POST /sessions"}},
                "bindings": {
                    "ws": {
                        "method": "GET",
                        "query": {
                            "type": "object",
                            "properties": {
                                "token": {
                                    "type": "string",
                                    "description": "the service token (scheme queryToken)",
                                },
                                "signal": {
                                    "type": "string",
                                    "enum": ["0", "1", "true", "yes"],
                                    "default": "0",
                                    "description": "1: also send signal frames",
                                },
                            },
                        },
                        "bindingVersion": "0.1.0",
                    }
                },
                "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in messages},
            }
        },
        "operations": {
            "sendSessionMessages": {
                "action": "send",
                "channel": {"$ref": "#/channels/session"},
                "summary": "What the service sends to a client.",
                "messages": out_refs,
            },
            "receiveClientMessages": {
                "action": "receive",
                "channel": {"$ref": "#/channels/session"},
                "summary": "What a client may send.",
                "messages": in_refs,
            },
        },
        "components": {"schemas": schemas, "messages": messages, "securitySchemes": schemes},
    }


def _security_schemes() -> dict[str, Any]:
    """The two ways a WebSocket client gives the token (``bci.api.security.Guard.ws_token``).

    Either one is enough; ``Authorization`` headers are not read on the WebSocket (browsers
    cannot set them there).
    """
    where = "the token `bci serve` prints (also in BCI_DATA_DIR/token)"
    return {
        "queryToken": {
            "type": "httpApiKey",
            "name": "token",
            "in": "query",
            "description": f"?token=<token>: {where}.",
        },
        "subprotocolToken": {
            "type": "httpApiKey",
            "name": "Sec-WebSocket-Protocol",
            "in": "header",
            "description": (
                f"A subprotocol entry bearer.<token>, {where}: keeps the token out of URLs and "
                "logs. Offer 'bci' as well and the server selects 'bci'; otherwise it selects "
                "the bearer.<token> entry (a client must accept the selected subprotocol)."
            ),
        },
    }


def write_asyncapi(path: str | Path, version: str | None = None) -> Path:
    """Write :func:`asyncapi_document` as indented JSON to ``path`` (``docs/asyncapi.json``).

    ``version`` defaults to ``bci.__version__``.
    """
    if version is None:
        from bci import __version__

        version = __version__
    out = Path(path)
    out.write_text(asyncapi_json(version), encoding="utf-8")
    return out


def asyncapi_json(version: str) -> str:
    """The document as the committed file holds it (sorted keys, 2-space indent)."""
    return (
        json.dumps(asyncapi_document(version), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    )


if __name__ == "__main__":  # python -m bci.online.messages docs/asyncapi.json
    import sys

    print(write_asyncapi(sys.argv[1] if len(sys.argv) > 1 else "docs/asyncapi.json"))
