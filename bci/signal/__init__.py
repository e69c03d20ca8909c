"""Pure signal processing (numpy/scipy, no I/O): causal filters, windows, band power, ERD."""

from bci.signal.filters import CausalFilter, design_bandpass, filter_continuous

__all__ = ["CausalFilter", "design_bandpass", "filter_continuous"]
