"""The import graph of bci/: no cycle, the layer rules hold, long modules say why."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "import_graph", ROOT / "tools" / "import_graph.py"
    )
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["import_graph"] = mod
    spec.loader.exec_module(mod)
    return mod


def test_no_import_cycle(tool: ModuleType) -> None:
    graph, _ = tool.import_graph()
    # lazy imports inside functions count: bci evaluate reads epochs inside its run function
    assert "bci.datasets" in graph["bci.cli.evaluate"]
    assert tool.cycles(graph) == []


def test_layer_rules(tool: ModuleType) -> None:
    graph, api_users = tool.import_graph()
    assert tool.broken_rules(graph, api_users) == []
    assert not any(
        d.startswith("bci.datasets") for m in graph if m.startswith("bci.streams") for d in graph[m]
    )


def test_long_modules_state_a_reason(tool: ModuleType) -> None:
    missing = [(p, n) for p, n, reason in tool.long_modules() if not reason]
    assert missing == []


def test_the_checks_can_fail(tool: ModuleType, tmp_path: Path) -> None:
    pkg = tmp_path / "bci"
    (pkg / "streams").mkdir(parents=True)
    (pkg / "datasets").mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "streams" / "__init__.py").write_text("")
    (pkg / "datasets" / "__init__.py").write_text("")
    (pkg / "streams" / "replay.py").write_text(
        "def f():\n    from bci.datasets.recordings import Recording\n"
    )
    (pkg / "datasets" / "recordings.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from bci.streams import replay\n"
        "import fastapi\n"
    )
    (pkg / "long.py").write_text('"""Doc."""\n' + "x = 1\n" * (tool.MAX_LINES + 1))
    graph, api_users = tool.import_graph(pkg)
    assert tool.cycles(graph) == [["bci.datasets.recordings", "bci.streams.replay"]]
    assert tool.broken_rules(graph, api_users) == [
        "bci.streams.replay imports bci.datasets.recordings "
        "(rule: bci.streams must not import bci.datasets)",
        "bci.datasets.recordings imports one of fastapi, starlette, uvicorn "
        "(only bci.api and bci.cli may)",
    ]
    assert tool.long_modules(pkg) == [("bci/long.py", tool.MAX_LINES + 2, None)]
