"""Session recordings keep each source's own header, unit and format, as LabRecorder does."""

from __future__ import annotations

import numpy as np
import pytest
import pyxdf

from bci.config import load_settings
from bci.online.manager import SessionManager
from bci.online.recording import SessionRecording
from bci.recordings import read_recording
from bci.streams.lsl import get_pylsl, local_clock, make_eeg_info, make_marker_info
from tests._helpers import wait_until

pytestmark = pytest.mark.network

CH = ["C3..", "Cz..", "C4.."]


@pytest.mark.parametrize(("fmt", "unit", "per_uv"), [("double64", "V", 1e-6), ("int16", "uV", 1)])
def test_recording_copies_the_source_header_and_units(tmp_path, stream_name, fmt, unit, per_uv):
    pylsl = get_pylsl()
    info = make_eeg_info(stream_name, CH, 100.0, f"src-{stream_name}", units=unit, fmt=fmt)
    loc = info.desc().child("channels").child("channel").append_child("location")
    for axis, v in zip("XYZ", ("-52.1", "-8.0", "68.4"), strict=True):
        loc.append_child_value(axis, v)
    outlet = pylsl.StreamOutlet(info)
    mk_outlet = pylsl.StreamOutlet(make_marker_info(f"{stream_name}-markers", "mk-src"))
    manager = SessionManager(load_settings(data_dir=tmp_path, record=True))
    try:
        session = manager.create(
            manager.open_lsl_source(name=stream_name, timeout=5),
            marker_sources=[manager.open_marker_source(f"{stream_name}-markers", timeout=5)],
        )
        assert session.description.ch_names == ["C3", "Cz", "C4"]
        assert session.description.locations[0] == pytest.approx((-0.0521, -0.008, 0.0684))
        wait_until(lambda: outlet.have_consumers() and mk_outlet.have_consumers(), timeout=5)
        rng = np.random.default_rng(0)
        uv = np.round(rng.standard_normal((200, 3)) * 20)  # whole µV: exact in int16 too
        sent = (uv * per_uv).astype(np.float64 if fmt == "double64" else np.int16)
        t0 = local_clock()
        outlet.push_chunk(sent, t0)
        mk_outlet.push_sample(["T1"], t0 + 0.5)
        session.add_marker("app_event", t0 + 1.0, source="http")

        def pulled() -> bool:
            session.step()
            return session.raw.n_written >= 200 and len(session.markers) >= 2

        wait_until(pulled, timeout=10)
        raw, _ = session.raw.latest(200)
        np.testing.assert_allclose(raw.T, uv, atol=1e-6)  # inside: µV
        path = session.stage(SessionRecording).path
        manager.delete(session.id)
        streams, _ = pyxdf.load_xdf(str(path), dejitter_timestamps=False)
        by_name = {s["info"]["name"][0]: s for s in streams}
        eeg = by_name[stream_name]
        hdr = eeg["info"]
        assert hdr["channel_format"] == [fmt]
        assert hdr["source_id"] == [f"src-{stream_name}"]
        assert hdr["uid"][0] == session.description.uid and hdr["uid"][0]
        chans = hdr["desc"][0]["channels"][0]["channel"]
        assert [c["label"][0] for c in chans] == CH  # the source's labels, verbatim
        assert [c["unit"][0] for c in chans] == [unit] * 3
        assert chans[0]["location"][0]["X"] == ["-52.1"]
        np.testing.assert_allclose(eeg["time_series"], sent, rtol=1e-12)  # source unit
        assert by_name[f"{stream_name}-markers"]["time_series"] == [["T1"]]
        assert by_name[f"bci-session-{session.id}-events"]["time_series"] == [["app_event"]]
        rec = read_recording(path)  # read back in µV whatever the source unit
        np.testing.assert_allclose(rec.data.T, uv, atol=1e-6)
        assert [v for _, v in rec.markers] == ["T1", "app_event"]
    finally:
        manager.close()
