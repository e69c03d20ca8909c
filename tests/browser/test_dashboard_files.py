"""The dashboard files are served by the app itself (no browser needed)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from bci.api import create_app
from bci.api.routes.dashboard import STATIC_DIR
from bci.config import load_settings


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    settings = load_settings(data_dir=tmp_path_factory.mktemp("bci-dashboard-files"))
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as c:
        yield c


@pytest.mark.parametrize(
    ("path", "media", "text"),
    [
        ("/", "text/html", "<title>bci · live session</title>"),
        ("/demo", "text/html", "<title>bci · feedback demo</title>"),
        ("/static/js/dashboard.js", "text/javascript", "SessionSocket"),
        ("/static/css/dashboard.css", "text/css", ".cue-overlay"),
    ],
)
def test_pages_and_files(client, path, media, text):
    r = client.get(path)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith(media)
    assert r.headers["cache-control"] == "no-cache"
    assert text in r.text


@pytest.mark.parametrize(
    "path",
    ["/static/js/missing.js", "/static/../routes/dashboard.py", "/static/%2e%2e/app.py"],
)
def test_only_dashboard_files_are_served(client, path):
    r = client.get(path)
    assert r.status_code == 404
    assert "dashboard.py" not in r.text and "import" not in r.text
    if path.endswith("missing.js"):
        assert r.json()["detail"] == "No dashboard file 'js/missing.js'"


def test_pages_are_not_in_the_api_schema(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert not {"/", "/demo"} & set(paths)
    assert not any(p.startswith("/static") for p in paths)


def test_every_module_import_and_asset_exists():
    """No CDN, no missing module: every import and page asset is a file under static/."""
    for f in list(STATIC_DIR.rglob("*.js")) + list(STATIC_DIR.glob("*.html")):
        text = f.read_text(encoding="utf-8")
        assert "http://" not in text.replace("http://127.0.0.1", "")
        assert "https://" not in text
        for ref in re.findall(r'from "(\./[^"]+)"', text):
            assert (f.parent / ref).resolve().is_file(), f"{f.name}: {ref}"
        for ref in re.findall(r'(?:src|href)="/static/([^"]+)"', text):
            assert (STATIC_DIR / ref).is_file(), f"{f.name}: {ref}"
