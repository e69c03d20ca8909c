"""The one error tree of ``bci``.

Every error a user can cause is a :class:`BCIError`. The API maps each class to an HTTP
status in one place (``bci.api.errors``); the CLI prints the message and exits non-zero.
Messages name the field, what was expected and what came, and say how to fix a state error.
"""

from __future__ import annotations

__all__ = [
    "BCIError",
    "CommandTimeoutError",
    "ConfigError",
    "DataError",
    "DecoderError",
    "LSLUnavailableError",
    "ModelExistsError",
    "ModelMismatchError",
    "ModelNotFoundError",
    "NotCalibratedError",
    "NotFoundError",
    "PayloadTooLargeError",
    "ServiceBusyError",
    "SessionNotFoundError",
    "SessionStateError",
    "SignalError",
    "StreamError",
    "StreamMismatchError",
    "StreamNotFoundError",
    "UnknownNameError",
]


class BCIError(Exception):
    """Base class of every error ``bci`` raises on purpose."""


class ConfigError(BCIError):
    """A settings value or a configuration file is invalid."""


class UnknownNameError(BCIError, ValueError):
    """A name given to a registry (pipeline, headset, paradigm...) is not known."""


class SignalError(BCIError, ValueError):
    """Signal content cannot be used: NaN, flat, too short, wrong shape."""


class DataError(BCIError):
    """A recording or dataset cannot be read or has no usable content."""


class StreamError(BCIError):
    """Base class for LSL stream problems."""


class LSLUnavailableError(StreamError):
    """liblsl cannot be loaded."""


class StreamNotFoundError(StreamError):
    """No LSL stream matched the query within the timeout."""


class StreamMismatchError(StreamError):
    """A stream's channel count, names or sampling rate differ from what is expected."""


class DecoderError(BCIError):
    """A decoder cannot be built, fitted or applied."""


class NotCalibratedError(DecoderError):
    """A decoder is used before it has been fitted."""


class ModelMismatchError(DecoderError):
    """A model does not match the session (channels, rate or classes)."""


class ModelExistsError(DecoderError):
    """An uploaded model has the id of a stored model with different content."""


class NotFoundError(BCIError, KeyError):
    """A named resource (session, model, recording) does not exist."""

    def __str__(self) -> str:  # KeyError quotes its message; we want it plain
        return str(self.args[0]) if self.args else ""


class ModelNotFoundError(NotFoundError):
    """No model has the given id."""


class SessionNotFoundError(NotFoundError):
    """No session has the given id."""


class SessionStateError(BCIError):
    """The session is not in a state that allows the request."""


class CommandTimeoutError(BCIError):
    """A command queued on a session was not applied in time (the engine is stuck)."""


class PayloadTooLargeError(BCIError):
    """An upload or request body is larger than its limit (declared or actual size)."""


class ServiceBusyError(BCIError):
    """Too many requests of one kind (stream resolutions, uploads) are in progress; retry."""
