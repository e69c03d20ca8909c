"""Data paths come from Settings only: eegbci's data folder and the MOABB reference tables."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bci.config import get_settings
from bci.datasets.eegbci import data_path
from bci.evaluation.reference import reference_path


@pytest.fixture
def fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_paths_follow_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_settings: None
) -> None:
    monkeypatch.setenv("BCI_DATA_PATH", str(tmp_path / "eeg"))
    monkeypatch.setenv("BCI_REFERENCE_PATH", str(tmp_path))
    get_settings.cache_clear()
    assert data_path() == tmp_path / "eeg"
    assert data_path(tmp_path / "given") == tmp_path / "given"
    assert reference_path() == tmp_path


def test_unset_paths_are_none(monkeypatch: pytest.MonkeyPatch, fresh_settings: None) -> None:
    monkeypatch.delenv("BCI_DATA_PATH", raising=False)
    monkeypatch.delenv("BCI_REFERENCE_PATH", raising=False)
    get_settings.cache_clear()
    assert data_path() is None
    assert reference_path() is None  # no guess from the source location


def test_reference_path_not_a_folder_warns(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    fresh_settings: None,
) -> None:
    monkeypatch.setenv("BCI_REFERENCE_PATH", str(tmp_path / "missing"))
    get_settings.cache_clear()
    with caplog.at_level(logging.WARNING, logger="bci.evaluation.reference"):
        assert reference_path() is None
    assert "missing is not a folder; no MOABB reference" in caplog.text
