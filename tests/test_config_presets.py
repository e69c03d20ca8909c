"""Settings, headset presets and paradigm files: parsed once, bad input named."""

import pytest

from bci.config import load_settings
from bci.errors import ConfigError, UnknownNameError
from bci.headsets import get_headset, headset_names, load_headset_file, motor_coverage_warnings
from bci.paradigms import get_paradigm, load_paradigm_file, paradigm_names


def test_settings_from_env_and_overrides(monkeypatch, tmp_path):
    monkeypatch.setenv("BCI_PORT", "8123")
    monkeypatch.setenv("BCI_LSL_LOOPBACK", "false")
    s = load_settings(data_dir=tmp_path)
    assert (s.port, s.lsl_loopback, s.data_dir) == (8123, False, tmp_path)
    f = tmp_path / "s.toml"
    f.write_text("port = 9001\nwindow_s = 1.5\n")
    assert load_settings(f).window_s == 1.5 and load_settings(f).port == 9001


@pytest.mark.parametrize(
    ("kwargs", "msg"),
    [
        ({"port": 0}, "port: Input should be greater than or equal to 1"),
        ({"l_freq": 30, "h_freq": 8}, "h_freq must be above l_freq"),
        ({"bogus": 1}, "bogus: Extra inputs are not permitted"),
    ],
)
def test_bad_settings_name_the_field(kwargs, msg):
    with pytest.raises(ConfigError, match=msg):
        load_settings(**kwargs)


def test_bad_settings_file(tmp_path):
    f = tmp_path / "bad.toml"
    f.write_text("port = [")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_settings(f)
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "missing.toml")


def test_every_preset_loads_with_positions():
    assert set(headset_names()) >= {
        "openbci-cyton",
        "unicorn",
        "emotiv-epoc",
        "muse",
        "standard-1020-19",
        "standard-1010-64",
    }
    for name in headset_names():
        h = get_headset(name)
        assert h.positions().shape == (h.n_channels, 3)
    assert get_headset("standard-1010-64").n_channels == 64
    assert get_headset("unicorn").sfreq == 250.0


def test_muse_warns_about_motor_coverage():
    (w,) = get_headset("muse").warnings()
    assert "no sensors over the sensorimotor cortex" in w
    assert get_headset("openbci-cyton").warnings() == []
    (w,) = motor_coverage_warnings(["C3", "Cz", "Pz"], "half")
    assert "right (C4 side) hand area" in w


def test_unknown_names():
    with pytest.raises(UnknownNameError, match=r"Unknown headset 'x'\. Must be one of: emotiv"):
        get_headset("x")
    with pytest.raises(UnknownNameError, match=r"Unknown paradigm 'x'\. Must be one of:"):
        get_paradigm("x")


def test_paradigms_parse_with_ao_conditions():
    assert {"imagery-left-right", "observation-rest", "movement-rest"} <= set(paradigm_names())
    p = get_paradigm("observation-rest")
    assert p.kind == "action-observation"
    assert [c.condition for c in p.classes] == ["observe", "rest"]


@pytest.mark.parametrize(
    ("text", "msg"),
    [
        ('name = "x"\ntitle = "t"\nsfreq = -1\nch_names = ["C3"]\n', "field 'sfreq'"),
        ('name = "x"\ntitle = "t"\nsfreq = 250\nch_names = ["C3", "C3"]\n', "repeated"),
        ('name = "x"\ntitle = "t"\nsfreq = 250\nch_names = ["C3"]\nfoo = 1\n', "field 'foo'"),
        ("name = ", "not valid TOML"),
    ],
)
def test_bad_headset_file(tmp_path, text, msg):
    f = tmp_path / "h.toml"
    f.write_text(text)
    with pytest.raises(ConfigError, match=msg):
        load_headset_file(f)


def test_bad_paradigm_file(tmp_path):
    f = tmp_path / "p.toml"
    f.write_text(
        'name = "p"\ntitle = "t"\n[[classes]]\nlabel = "a"\ncondition = "levitate"\n'
        '[[classes]]\nlabel = "b"\ncondition = "rest"\n'
    )
    with pytest.raises(ConfigError, match="unknown condition 'levitate'"):
        load_paradigm_file(f)
    f.write_text(
        'name = "p"\ntitle = "t"\n[[classes]]\nlabel = "a"\ncondition = "rest"\n'
        '[[classes]]\nlabel = "b"\ncondition = "rest"\n[timing]\ntmin = 3\ntmax = 2\n'
    )
    with pytest.raises(ConfigError, match=r"tmax .* must be greater than tmin"):
        load_paradigm_file(f)
