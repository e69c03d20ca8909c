"""bci: real-time brain-computer-interface decoding service."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("bci")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
