"""What an engine round costs per session when nothing has arrived (the idle poll).

The engine polls every inlet once a round (every 4 ms, BCI_ENGINE_PERIOD_MS); a chunk comes
every 40 ms (10 samples at 250 Hz),
so ~95% of polls find nothing, and their cost times N sessions bounds the round rate. Run it
with another checkout first on the path to compare (``PYTHONPATH=../main``).

    .venv/bin/python bench/poll.py [--n 20000]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("LSLAPICFG", str(ROOT / "configs" / "lsl" / "loopback.cfg"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20000)
    args = ap.parse_args(argv)
    import bci
    from bci.online.session import DecodingSession
    from bci.streams.inlets import Inlet
    from bci.streams.lsl import get_pylsl, local_clock, make_eeg_info, resolve_stream

    name = f"poll-{uuid.uuid4().hex[:6]}"
    outlet = get_pylsl().StreamOutlet(make_eeg_info(name, [f"c{i}" for i in range(8)], 250, name))
    inlet = Inlet(resolve_stream(name=name))
    session = DecodingSession("1", inlet, clock=local_clock)
    print(f"bci from {Path(bci.__file__).parent}")
    for label, fn in (("empty Inlet.pull", inlet.pull), ("empty session.step", session.step)):
        best = []
        for _ in range(5):  # best of 5 blocks: the machine is shared
            t = time.perf_counter()
            for _ in range(args.n // 5):
                fn()
            best.append((time.perf_counter() - t) / (args.n // 5) * 1e6)
        print(f"{label:<20} {min(best):6.2f} µs (best of 5 blocks)")
    del outlet
    return 0


if __name__ == "__main__":
    sys.exit(main())
