"""Stream headers -> descriptions, label standardisation and positions (pure, no liblsl)."""

from __future__ import annotations

import numpy as np
import pytest

from bci.errors import StreamError
from bci.headsets import (
    motor_coverage_warnings,
    standardize_label,
    standardize_labels,
    stream_positions,
)
from bci.streams.lsl_header import parse_header
from bci.units import unit_scales, uv_scale


def _header(channels: str, n: int = 3, fmt: str = "double64") -> str:
    return (
        '<?xml version="1.0"?><info><name>amp</name><type>EEG</type>'
        f"<channel_count>{n}</channel_count><channel_format>{fmt}</channel_format>"
        "<source_id>sid</source_id><nominal_srate>160.0</nominal_srate><uid>u-1</uid>"
        f"<hostname>h</hostname><desc><channels>{channels}</channels></desc></info>"
    )


def test_header_units_types_locations_and_standard_labels():
    chans = (
        "<channel><label>C3..</label><unit>V</unit><type>EEG</type>"
        "<location><X>-52.1</X><Y>-8.0</Y><Z>68.4</Z></location></channel>"
        "<channel><label>Fc5.</label><unit>0</unit><type>eeg</type>"
        "<loc><R0x>0.01</R0x><R0y>0.02</R0y><R0z>0.03</R0z></loc></channel>"
        "<channel><label>EMG1</label><unit></unit><type>EMG</type>"
        "<loc><R0x>0</R0x><R0y>0</R0y><R0z>0</R0z></loc></channel>"
    )
    d = parse_header(_header(chans))
    assert (d.name, d.type, d.n_channels, d.sfreq) == ("amp", "EEG", 3, 160.0)
    assert (d.channel_format, d.source_id, d.uid, d.hostname) == ("double64", "sid", "u-1", "h")
    assert d.ch_names == ["C3", "FC5", "EMG1"]
    assert d.source_ch_names == ["C3..", "Fc5.", "EMG1"]
    assert d.units == ["V", "0", ""] and d.ch_types == ["EEG", "eeg", "EMG"]
    assert d.locations[0] == pytest.approx((-0.0521, -0.008, 0.0684))  # mm -> m
    assert d.locations[1] == pytest.approx((0.01, 0.02, 0.03))  # mne-lsl: metres
    assert d.locations[2] is None  # MNE's all-zero "no position"
    assert d.header_xml.startswith("<?xml")
    assert d.to_dict()["units"] == ["V", "0", ""] and "header_xml" not in d.to_dict()


def test_header_without_channel_descriptions():
    d = parse_header(_header("<channel><label>only one</label></channel>", n=2))
    assert d.ch_names == ["ch1", "ch2"] and d.units == ["", ""] and d.locations == [None, None]


def test_bad_header_is_named():
    with pytest.raises(StreamError, match="not valid XML"):
        parse_header("<info><name>x</name>")
    with pytest.raises(StreamError, match="channel_count must be an integer, got 'many'"):
        parse_header("<info><name>x</name><channel_count>many</channel_count></info>")


@pytest.mark.parametrize(
    ("unit", "scale"),
    [("V", 1e6), ("volts", 1e6), ("mV", 1e3), ("µV", 1.0), ("μV", 1.0), ("uV", 1.0),
     ("microvolts", 1.0), ("nV", 1e-3), ("0", 1e6), ("-3", 1e3), ("-6", 1.0), ("-9", 1e-3),
     ("", None), (None, None), ("furlongs", None), ("-2", None)],
)  # fmt: skip
def test_unit_scales(unit, scale):
    assert uv_scale(unit) == scale


def test_unit_scales_per_channel_and_unknowns():
    scales, unknown = unit_scales(["V", "bogus", ""], 3)
    assert scales == [1e6, 1.0, 1.0] and unknown == [1, 2]
    assert unit_scales([], 2) == ([1.0, 1.0], [0, 1])


def test_label_standardisation():
    assert [standardize_label(c) for c in ("C3..", "Fc5.", "FCZ", "fp1", "EEG Cz-REF")] == [
        "C3",
        "FC5",
        "FCz",
        "Fp1",
        "Cz",
    ]
    assert standardize_label("  EMG1. ") == "EMG1"  # not a 10-05 name: padding removed only
    # Two labels that would collide keep their own text.
    assert standardize_labels(["C3..", "c3"]) == ["C3..", "c3"]


def test_motor_warning_uses_standard_names():
    edf = ["Fc5.", "C3..", "Cz..", "C4..", "Fc6."]
    assert motor_coverage_warnings(edf, "edf") == []
    assert "no sensors over the sensorimotor cortex" in motor_coverage_warnings(["Fp1.", "O1.."])[0]


def test_positions_from_the_stream_else_the_template():
    own = (0.01, 0.02, 0.03)
    pos, origin = stream_positions(["C3", "Cz", "EMG1"], [own, None, None])
    assert origin == ["stream", "standard_1005", "none"]
    np.testing.assert_allclose(pos[0], own)
    assert np.isfinite(pos[1]).all() and abs(pos[1][0]) < 0.01  # Cz on the midline
    assert np.isnan(pos[2]).all()


@pytest.mark.network
def test_a_half_second_resolve_takes_half_a_second():
    """liblsl turns a resolve of exactly 0.5 s into 5.5 s; ours must not (found here)."""
    import time

    from bci.errors import StreamNotFoundError
    from bci.streams.lsl import list_streams, resolve_stream

    t0 = time.monotonic()
    list_streams(0.5, full=False)
    assert time.monotonic() - t0 < 2.0
    t0 = time.monotonic()
    with pytest.raises(StreamNotFoundError):
        resolve_stream(name="bci-test-surely-absent", timeout=0.5)
    assert time.monotonic() - t0 < 3.0  # 0.5 s + the 0.5 s listing in the message
