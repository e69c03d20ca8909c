"""The synthetic EEG headset: a seeded generator with real sensorimotor structure.

The signal is built the way EEG is: a spatially correlated 1/f background, oscillatory sources
(posterior alpha, sensorimotor mu and beta over the left hand, right hand and midline/feet
areas) projected to the electrodes by distance, and the nuisances of a real recording (blinks,
line noise, drift, per-channel gain and noise). The current *condition* (``imagine_left``,
``observe``, ``rest``... see :data:`bci.paradigms.CONDITIONS`) sets how strongly each
sensorimotor source is desynchronised (ERD), with a smooth onset and offset, so a decoder
trained on it learns the same lateralised mu/beta power changes it meets in real data.

Every random stream is spawned from one seed, and every filter carries its state, so
generating 1000 samples at once or as ten chunks of 100 gives identical output.
"""

# Long module: one generative model of a headset (condition effects, volume conduction, rhythm
# envelopes, artefacts, generator, trial schedule), whose parts only make sense together.

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from scipy import signal as sps

from bci.errors import ConfigError
from bci.headsets import Headset, get_headset, standard_montage
from bci.paradigms import CONDITIONS, Paradigm, get_paradigm
from bci.registry import Registry

__all__ = [
    "ConditionEffect",
    "SimulatedRun",
    "SyntheticEEG",
    "Trial",
    "condition_effect",
    "make_schedule",
    "simulate_run",
]

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------------------------
# What each condition does to the sources
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConditionEffect:
    """How one condition changes the oscillatory sources.

    Each number is a fraction of ``erd_depth``: the amplitude of a source becomes
    ``1 - erd_depth * factor`` (negative factors enhance it, event-related synchronisation).

    Attributes
    ----------
    mu : tuple of 3 floats
        Mu (8-13 Hz) suppression of the (left hand / C3, right hand / C4, midline / Cz) sources.
    beta : tuple of 3 floats
        Beta (13-30 Hz) suppression of the same three sources.
    alpha : float
        Posterior alpha suppression (visual attention, e.g. watching a video).
    rebound : float
        Post-movement beta rebound when the condition ends (0 none, 1 the full
        ``beta_rebound`` of the generator).
    """

    mu: tuple[float, float, float] = (0.0, 0.0, 0.0)
    beta: tuple[float, float, float] = (0.0, 0.0, 0.0)
    alpha: float = 0.0
    rebound: float = 0.0


# Lateralisation follows the physiology: a hand desynchronises the contralateral hand area
# (left hand -> right hemisphere, C4), with a weak ipsilateral and midline part; feet
# desynchronise the mesial (Cz) area and slightly enhance the hand areas ("focal ERD /
# surround ERS"); execution is stronger and more bilateral than imagery; observation is a
# weaker bilateral suppression with some occipital alpha block; observation plus imagery is
# stronger than either alone.
_EFFECTS: dict[str, ConditionEffect] = {
    "rest": ConditionEffect(),
    "imagine_left": ConditionEffect(mu=(0.2, 1.0, 0.25), beta=(0.15, 0.8, 0.2), rebound=0.5),
    "imagine_right": ConditionEffect(mu=(1.0, 0.2, 0.25), beta=(0.8, 0.15, 0.2), rebound=0.5),
    "imagine_hands": ConditionEffect(mu=(0.9, 0.9, 0.25), beta=(0.7, 0.7, 0.2), rebound=0.5),
    "imagine_feet": ConditionEffect(mu=(-0.25, -0.25, 1.0), beta=(-0.15, -0.15, 0.9), rebound=0.5),
    "observe": ConditionEffect(mu=(0.45, 0.45, 0.35), beta=(0.3, 0.3, 0.25), alpha=0.3),
    "observe_imagine": ConditionEffect(
        mu=(1.0, 1.0, 0.5), beta=(0.75, 0.75, 0.4), alpha=0.3, rebound=0.3
    ),
    "execute_left": ConditionEffect(mu=(0.5, 1.5, 0.4), beta=(0.5, 1.4, 0.4), rebound=1.0),
    "execute_right": ConditionEffect(mu=(1.5, 0.5, 0.4), beta=(1.4, 0.5, 0.4), rebound=1.0),
    "execute_hands": ConditionEffect(mu=(1.4, 1.4, 0.4), beta=(1.3, 1.3, 0.4), rebound=1.0),
    "execute_feet": ConditionEffect(mu=(-0.2, -0.2, 1.5), beta=(-0.1, -0.1, 1.4), rebound=1.0),
}


@lru_cache(maxsize=1)
def _condition_registry() -> Registry[ConditionEffect]:
    reg: Registry[ConditionEffect] = Registry("condition")
    for name in CONDITIONS:
        reg.register(name, _EFFECTS[name])
    return reg


def condition_effect(name: str) -> ConditionEffect:
    """The :class:`ConditionEffect` of a condition.

    Raises
    ------
    bci.errors.UnknownNameError
        ``name`` is not in :data:`bci.paradigms.CONDITIONS`.
    """
    return _condition_registry().resolve(name)


# --------------------------------------------------------------------------------------------
# Building blocks
# --------------------------------------------------------------------------------------------

# Paul Kellet's 3-pole approximation of a 1/f (pink) spectrum, -10 dB/decade from ~0.1 Hz to
# Nyquist at EEG rates; its gain at DC is ~1, so it stays bounded.
_PINK_B = np.array([0.049922035, -0.095993537, 0.050612699, -0.004408786])
_PINK_A = np.array([1.0, -2.494956002, 2.017265875, -0.522189400])

# Sources of the oscillations, placed at these template electrodes.
_SOURCE_SITES = ("C3", "C4", "Cz")  # left hand, right hand, midline (feet)
_ALPHA_SITES = ("O1", "O2", "Pz")
_ALPHA_WEIGHTS = (1.0, 1.0, 0.6)
_EYE_SITES = ("Fp1", "Fp2")

_WARMUP_S = 8.0  # noise run through the filters at construction so they start stationary
_BLINK_PEAK_S = 0.1
_BLINK_LEN_S = 0.6


@lru_cache(maxsize=4)
def _montage_positions(montage: str | None) -> dict[str, np.ndarray]:
    pos = standard_montage(montage).get_positions()["ch_pos"]
    return {k.lower(): np.asarray(v, dtype=float) for k, v in pos.items()}


def _site(montage: str | None, name: str) -> np.ndarray:
    lookup = _montage_positions(montage)
    if name.lower() not in lookup:  # an unusual montage: fall back to the 10-05 template
        lookup = _montage_positions(None)
    return lookup[name.lower()]


def _distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distances, shape (len(a), len(b))."""
    return np.asarray(np.linalg.norm(a[:, None, :] - b[None, :, :], axis=-1))


def _volume_conduction(d: np.ndarray, spread_m: float) -> np.ndarray:
    """Gain of a source seen at distance ``d``: 1 at the source, dipole-like fall-off."""
    return np.asarray((1.0 + (d / spread_m) ** 2) ** -1.5)


def _unit_narrowband(sfreq: float, f0: float, bandwidth: float) -> np.ndarray:
    """SOS band-pass around ``f0`` scaled so white noise in gives unit variance out."""
    nyq = sfreq / 2.0
    lo = max(f0 - bandwidth / 2.0, 0.5)
    hi = min(f0 + bandwidth / 2.0, 0.95 * nyq)
    sos = sps.butter(2, [lo, hi], btype="bandpass", fs=sfreq, output="sos")
    impulse = np.zeros(int(20 * sfreq))
    impulse[0] = 1.0
    h = sps.sosfilt(sos, impulse)
    sos[0, :3] /= math.sqrt(float(np.sum(h**2)))
    return np.asarray(sos)


class _Envelope:
    """Piecewise raised-cosine ramps between gain targets, for several sources at once.

    Ramps are set at sample indices; ``values(i0, n)`` evaluates samples ``i0 .. i0+n-1``,
    so the result does not depend on how the samples are chunked.
    """

    def __init__(self, n_sources: int) -> None:
        self._start = 0
        self._v0 = np.ones(n_sources)
        self._v1 = np.ones(n_sources)
        self._len = 1
        self._pending: list[tuple[int, np.ndarray, int]] = []

    def _eval(self, idx: np.ndarray) -> np.ndarray:
        x = np.clip((idx - self._start) / self._len, 0.0, 1.0)
        s = 0.5 - 0.5 * np.cos(np.pi * x)
        return self._v0[None, :] + (self._v1 - self._v0)[None, :] * s[:, None]

    def set(self, at: int, target: np.ndarray, length: int) -> None:
        """Ramp from the value at sample ``at`` to ``target``; forget pending ramps."""
        self._v0 = self._eval(np.array([at]))[0]
        self._v1 = np.asarray(target, dtype=float)
        self._start = at
        self._len = max(int(length), 1)
        self._pending = []

    def schedule(self, at: int, target: np.ndarray, length: int) -> None:
        """Queue a ramp that starts at sample ``at`` (after the current one)."""
        self._pending.append((at, np.asarray(target, dtype=float), max(int(length), 1)))
        self._pending.sort(key=lambda p: p[0])

    def values(self, i0: int, n: int) -> np.ndarray:
        """Gains of samples ``i0 .. i0+n-1``, shape (n, n_sources)."""
        out = np.empty((n, self._v0.size))
        pos = i0
        end = i0 + n
        while pos < end:
            nxt = self._pending[0][0] if self._pending else end
            stop = min(max(nxt, pos), end)
            if stop > pos:
                out[pos - i0 : stop - i0] = self._eval(np.arange(pos, stop))
                pos = stop
            if self._pending and self._pending[0][0] <= pos:
                at, target, length = self._pending.pop(0)
                self._v0 = self._eval(np.array([at]))[0]
                self._v1, self._start, self._len = target, at, length
        return out


def _one_pole(sfreq: float, cutoff: float) -> tuple[np.ndarray, np.ndarray, float]:
    """A unit-variance first-order low-pass (b, a, pole)."""
    pole = math.exp(-2.0 * math.pi * cutoff / sfreq)
    return np.array([math.sqrt(1.0 - pole**2)]), np.array([1.0, -pole]), pole


# --------------------------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------------------------


class SyntheticEEG:
    """A seeded, reproducible EEG generator with condition-dependent sensorimotor rhythms.

    Parameters
    ----------
    headset : str or Headset
        Headset preset (``bci.headsets``) giving channel names, positions and rate.
    seed : int or None
        Seed of every random stream (None: fresh entropy, not reproducible).
    erd_depth : float
        Amplitude suppression, in [0, 1), of the source contralateral to an imagined hand at
        full engagement (``0.35`` = the mu amplitude over C4 drops 35% during left-hand
        imagery). Other conditions are fractions of it (see :class:`ConditionEffect`).
        The channel-level power change is smaller, as at a real electrode, because the
        background and the neighbouring sources are not suppressed: at the default 0.6,
        8-13 Hz power at C4 drops ~5 dB during left-hand imagery, and left/right imagery
        decodes at ~88% (5-fold CV, 20 trials per class, 8-channel Cyton; 0.35 gives ~75%,
        0.2 ~61%), a realistic good subject.
    snr : float
        Scale of all oscillatory sources (alpha, mu, beta) relative to their default
        amplitudes; 1 keeps the defaults, 0 leaves background and nuisances only.
    line_freq : float or None
        Mains frequency in Hz (50 or 60); None (or a value at or above Nyquist) for none.
    blink_rate : float
        Eye blinks per second (0 for none); intervals are a 0.6 s refractory period plus an
        exponential wait.
    ramp_s : float
        Duration of the raised-cosine onset and offset of each desynchronisation.
    trial_variability : float
        Standard deviation of the per-condition-change engagement factor (mean 1, clipped at
        0): real subjects do not desynchronise equally on every trial.
    lapse_rate : float
        Probability that a condition change is not engaged at all (an attention lapse).
    beta_rebound : float
        Post-movement beta rebound: amplitude overshoot (fraction) of the beta sources for
        ~1 s after an executed movement ends (half of it after imagery).
    fluctuation : float
        Standard deviation of the log-amplitude of the slow (< 0.4 Hz) spontaneous
        fluctuation of every rhythm, on top of the bursts of the narrow-band sources.
    background_uv : float
        RMS of the 1/f background at each channel, in µV.
    alpha_uv, mu_uv, beta_uv : float
        RMS amplitude of one alpha, mu or beta source seen at its own site, in µV.
    noise_uv : float
        Mean RMS of the white sensor noise; each channel draws 0.5x to 1.5x of it.
    line_uv : float
        Mean amplitude of the line noise; each channel draws 0.3x to 1.7x of it.
    drift_uv : float
        Standard deviation of the slow (< 0.05 Hz) electrode drift, in µV.
    blink_uv : float
        Blink peak at Fp1/Fp2, in µV; it decays with the distance from the eyes.
    spread_m : float
        Volume-conduction spread of the oscillatory sources, in metres: the gain at distance
        ``d`` is ``(1 + (d / spread_m)**2) ** -1.5``.
    background_corr_m : float
        Length scale (metres) of the exponential spatial correlation of the background.
    gain_sd : float
        Standard deviation of the log of each channel's gain (electrode impedance).

    Attributes
    ----------
    headset : Headset
    ch_names : list of str
    sfreq : float
    n_channels : int
    n_generated : int
        Samples generated so far (the index of the next sample).
    source_freqs : ndarray, shape (9,)
        Peak frequencies (Hz) of the sources: mu at C3/C4/Cz, beta at C3/C4/Cz, alpha at
        O1/O2/Pz, drawn per seed (a person's own rhythms).
    channel_gain : ndarray, shape (n_channels,)

    Raises
    ------
    bci.errors.UnknownNameError
        Unknown headset name.
    bci.errors.ConfigError
        A parameter out of range (the message names it), or a channel without a position
        in the headset's montage.

    Notes
    -----
    Model, per channel ``c``: ``gain_c * (B_c + sum_s W_cs a_s m_s(t) g_s(t) n_s(t)) +
    noise_c + drift_c + line_c + blink_c`` where ``B`` is pink noise mixed across channels
    with correlation ``exp(-distance / background_corr_m)``, ``n_s`` unit-variance
    narrow-band noise at the source's peak (bursts), ``m_s`` a slow log-normal amplitude
    fluctuation, ``g_s`` the condition envelope and ``W`` the distance-based projection of
    sources placed at the template positions of C3, C4, Cz (mu and beta) and O1, O2, Pz
    (alpha). Every component draws from its own random stream spawned from ``seed``.

    Examples
    --------
    >>> gen = SyntheticEEG("openbci-cyton", seed=0)
    >>> gen.set_condition("imagine_left")
    >>> chunk = gen.generate(250)  # (250, 8) float32, microvolts
    """

    def __init__(
        self,
        headset: str | Headset = "openbci-cyton",
        seed: int | None = None,
        erd_depth: float = 0.6,
        snr: float = 1.0,
        line_freq: float | None = 50.0,
        blink_rate: float = 0.2,
        *,
        ramp_s: float = 0.4,
        trial_variability: float = 0.3,
        lapse_rate: float = 0.05,
        beta_rebound: float = 0.4,
        fluctuation: float = 0.35,
        background_uv: float = 12.0,
        alpha_uv: float = 10.0,
        mu_uv: float = 6.0,
        beta_uv: float = 3.0,
        noise_uv: float = 1.5,
        line_uv: float = 3.0,
        drift_uv: float = 8.0,
        blink_uv: float = 150.0,
        spread_m: float = 0.045,
        background_corr_m: float = 0.05,
        gain_sd: float = 0.1,
    ) -> None:
        _check_range("erd_depth", erd_depth, 0.0, 1.0, hi_open=True)
        _check_range("lapse_rate", lapse_rate, 0.0, 1.0)
        for pname, val in (
            ("snr", snr),
            ("blink_rate", blink_rate),
            ("ramp_s", ramp_s),
            ("trial_variability", trial_variability),
            ("beta_rebound", beta_rebound),
            ("fluctuation", fluctuation),
            ("background_uv", background_uv),
            ("alpha_uv", alpha_uv),
            ("mu_uv", mu_uv),
            ("beta_uv", beta_uv),
            ("noise_uv", noise_uv),
            ("line_uv", line_uv),
            ("drift_uv", drift_uv),
            ("blink_uv", blink_uv),
            ("gain_sd", gain_sd),
        ):
            _check_range(pname, val, 0.0, math.inf)
        for pname, val in (("spread_m", spread_m), ("background_corr_m", background_corr_m)):
            if not (isinstance(val, int | float) and val > 0):
                raise ConfigError(f"{pname} must be a positive number of metres, got {val!r}")
        if line_freq is not None and not (isinstance(line_freq, int | float) and line_freq > 0):
            raise ConfigError(
                f"line_freq must be a positive frequency in Hz or None, got {line_freq!r}"
            )

        self.headset = get_headset(headset)
        self.ch_names = list(self.headset.ch_names)
        self.sfreq = float(self.headset.sfreq)
        self.n_channels = len(self.ch_names)
        self.seed = seed
        self.erd_depth = float(erd_depth)
        self.snr = float(snr)
        self.line_freq = None if line_freq is None else float(line_freq)
        self.blink_rate = float(blink_rate)
        self.ramp_s = float(ramp_s)
        self.trial_variability = float(trial_variability)
        self.lapse_rate = float(lapse_rate)
        self.beta_rebound = float(beta_rebound)

        fs = self.sfreq
        (
            rng_static,
            self._rng_bg,
            self._rng_osc,
            self._rng_mod,
            self._rng_noise,
            self._rng_drift,
            self._rng_blink,
            self._rng_cond,
            rng_warm,
        ) = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(9))

        # Geometry ---------------------------------------------------------------------------
        montage = self.headset.montage
        pos = self.headset.positions()
        motor = np.array([_site(montage, s) for s in _SOURCE_SITES])
        alpha = np.array([_site(montage, s) for s in _ALPHA_SITES])
        eyes = np.array([_site(montage, s) for s in _EYE_SITES])

        corr = np.exp(-_distances(pos, pos) / background_corr_m)
        self._bg_mix = np.linalg.cholesky(corr + 1e-9 * np.eye(self.n_channels))

        # Source order: mu L/R/M, beta L/R/M, alpha O1/O2/Pz.
        w_motor = _volume_conduction(_distances(pos, motor), spread_m)
        w_alpha = _volume_conduction(_distances(pos, alpha), spread_m) * np.array(_ALPHA_WEIGHTS)
        amps = np.array([mu_uv] * 3 + [beta_uv] * 3 + [alpha_uv] * 3) * self.snr
        self._mix = np.hstack([w_motor, w_motor, w_alpha]) * amps[None, :]  # (n_ch, n_src)
        self.n_sources = self._mix.shape[1]

        d_eye = _distances(pos, eyes)
        eye_gain = np.exp(-d_eye / 0.04).sum(axis=1)
        eye_norm = 1.0 + math.exp(-float(np.linalg.norm(eyes[0] - eyes[1])) / 0.04)
        self._blink_gain = eye_gain / eye_norm * blink_uv

        # Individual rhythm frequencies (a person's own alpha, mu and beta peaks) ---------
        iaf = rng_static.uniform(9.5, 10.5)
        mu_f = rng_static.uniform(10.0, 11.5) + rng_static.uniform(-0.3, 0.3, size=3)
        beta_f = rng_static.uniform(18.0, 23.0) + rng_static.uniform(-1.0, 1.0, size=3)
        alpha_f = iaf + rng_static.uniform(-0.2, 0.2, size=3)
        self.source_freqs = np.concatenate([mu_f, beta_f, alpha_f])
        bandwidths = [2.0] * 3 + [5.0] * 3 + [2.0] * 3
        self._sos = [
            _unit_narrowband(fs, f, bw) for f, bw in zip(self.source_freqs, bandwidths, strict=True)
        ]

        # Channel properties ----------------------------------------------------------------
        self.channel_gain = np.exp(rng_static.normal(0.0, gain_sd, size=self.n_channels))
        self._noise_sd = noise_uv * rng_static.uniform(0.5, 1.5, size=self.n_channels)
        self._line_amp = line_uv * rng_static.uniform(0.3, 1.7, size=self.n_channels)
        self._line_phase = rng_static.uniform(0, 2 * np.pi, size=self.n_channels)
        self._background_uv = float(background_uv)
        self._drift_uv = float(drift_uv)
        if self.line_freq is not None and self.line_freq >= fs / 2.0:
            logger.info(
                "line_freq %.1f Hz is at or above Nyquist (%.1f Hz): no line noise",
                self.line_freq,
                fs / 2.0,
            )

        # Stateful filters, warmed up so the first sample is already stationary -----------
        self._pink_zi = np.zeros((len(_PINK_A) - 1, self.n_channels))
        self._osc_zi = [np.zeros((sos.shape[0], 2)) for sos in self._sos]
        n_warm = int(_WARMUP_S * fs)
        _, self._pink_zi = sps.lfilter(
            _PINK_B,
            _PINK_A,
            rng_warm.standard_normal((n_warm, self.n_channels)),
            axis=0,
            zi=self._pink_zi,
        )
        # The 3-pole filter's output variance, to scale the background to background_uv.
        imp = np.zeros(int(200 * fs))
        imp[0] = 1.0
        self._pink_scale = 1.0 / math.sqrt(float(np.sum(sps.lfilter(_PINK_B, _PINK_A, imp) ** 2)))
        w_warm = rng_warm.standard_normal((n_warm, self.n_sources))
        for k, sos in enumerate(self._sos):
            _, self._osc_zi[k] = sps.sosfilt(sos, w_warm[:, k], zi=self._osc_zi[k])
        # Slow amplitude fluctuation of each rhythm (log-normal, ~0.4 Hz) and drift (0.05 Hz),
        # both one-pole low-passes started from their stationary distribution.
        self._mod_b, self._mod_a, p_mod = _one_pole(fs, 0.4)
        self._mod_zi = p_mod * rng_warm.standard_normal((1, self.n_sources))
        self._mod_sigma = float(fluctuation)
        self._drift_b, self._drift_a, p_drift = _one_pole(fs, 0.05)
        self._drift_zi = p_drift * rng_warm.standard_normal((1, self.n_channels))

        # Blinks: (onset sample, amplitude) of those that may still reach the next sample.
        self._blinks: list[tuple[int, float]] = []
        self._next_blink = self._draw_blink_interval(first=True)
        t_blink = np.arange(int(_BLINK_LEN_S * fs)) / fs / _BLINK_PEAK_S
        self._blink_shape = t_blink**2 * np.exp(2.0 * (1.0 - t_blink))

        self._env = _Envelope(self.n_sources)
        self._condition = "rest"
        self._n = 0

    # ---------------------------------------------------------------------------------------

    @property
    def condition(self) -> str:
        """The current condition (one of :data:`bci.paradigms.CONDITIONS`)."""
        return self._condition

    @property
    def n_generated(self) -> int:
        """Samples generated so far; the next sample has this index."""
        return self._n

    def set_condition(self, name: str) -> None:
        """Switch the brain state from the next generated sample on.

        The sensorimotor sources ramp (raised cosine, ``ramp_s``) to the new condition's
        gains, each drawn with this trial's engagement (``trial_variability``,
        ``lapse_rate``). Leaving an imagined or executed movement for ``rest`` adds a
        post-movement beta rebound.

        Parameters
        ----------
        name : str
            One of :data:`bci.paradigms.CONDITIONS`.

        Raises
        ------
        bci.errors.UnknownNameError
            ``"Unknown condition 'x'. Must be one of: ..."``.
        """
        effect = condition_effect(name)
        previous = condition_effect(self._condition)
        name = name.lower()
        # Draw the engagement on every change (even rest) so the random stream depends only on
        # the sequence of changes, never on their content.
        engaged = self._rng_cond.uniform() >= self.lapse_rate
        strength = max(0.0, 1.0 + self.trial_variability * self._rng_cond.standard_normal())
        strength *= float(engaged)
        factors = np.concatenate(
            [np.array(effect.mu), np.array(effect.beta), np.full(3, effect.alpha)]
        )
        target = np.clip(1.0 - self.erd_depth * strength * factors, 0.05, 2.0)
        ramp = round(self.ramp_s * self.sfreq)
        rebound = self.beta_rebound * previous.rebound
        if name == "rest" and rebound > 0:
            over = target.copy()
            beta_factors = np.clip(np.array(previous.beta), 0.0, 1.0)
            over[3:6] = 1.0 + rebound * beta_factors
            self._env.set(self._n, over, round(0.5 * self.sfreq))
            self._env.schedule(self._n + round(1.0 * self.sfreq), target, round(1.0 * self.sfreq))
        else:
            self._env.set(self._n, target, ramp)
        self._condition = name

    def generate(self, n_samples: int) -> np.ndarray:
        """Generate the next ``n_samples`` samples.

        Parameters
        ----------
        n_samples : int
            How many samples (>= 0).

        Returns
        -------
        chunk : ndarray, shape (n_samples, n_channels), float32
            EEG in microvolts, continuing the previous call.
        """
        if isinstance(n_samples, bool) or not isinstance(n_samples, int | np.integer):
            raise TypeError(f"n_samples must be an int, got {type(n_samples).__name__}")
        n = int(n_samples)
        if n < 0:
            raise ValueError(f"n_samples must be >= 0, got {n}")
        if n == 0:
            return np.empty((0, self.n_channels), dtype=np.float32)
        i0 = self._n
        fs = self.sfreq

        # 1/f background, spatially correlated across electrodes.
        white = self._rng_bg.standard_normal((n, self.n_channels))
        pink, self._pink_zi = sps.lfilter(_PINK_B, _PINK_A, white, axis=0, zi=self._pink_zi)
        x = (pink * (self._pink_scale * self._background_uv)) @ self._bg_mix.T

        # Oscillatory sources: narrow-band noise (waxing and waning bursts) x slow log-normal
        # amplitude fluctuation x condition envelope, projected to channels by distance.
        w = self._rng_osc.standard_normal((n, self.n_sources))
        src = np.empty((n, self.n_sources))
        for k, sos in enumerate(self._sos):
            src[:, k], self._osc_zi[k] = sps.sosfilt(sos, w[:, k], zi=self._osc_zi[k])
        m, self._mod_zi = sps.lfilter(
            self._mod_b,
            self._mod_a,
            self._rng_mod.standard_normal((n, self.n_sources)),
            axis=0,
            zi=self._mod_zi,
        )
        sig = self._mod_sigma
        src *= np.exp(sig * m - 0.5 * sig**2)
        src *= self._env.values(i0, n)
        x += src @ self._mix.T
        x *= self.channel_gain[None, :]

        # Nuisances: sensor noise, drift, line noise, blinks.
        x += self._rng_noise.standard_normal((n, self.n_channels)) * self._noise_sd[None, :]
        d, self._drift_zi = sps.lfilter(
            self._drift_b,
            self._drift_a,
            self._rng_drift.standard_normal((n, self.n_channels)),
            axis=0,
            zi=self._drift_zi,
        )
        x += d * self._drift_uv
        if self.line_freq is not None and self.line_freq < fs / 2.0:
            t = np.arange(i0, i0 + n) / fs
            x += self._line_amp[None, :] * np.sin(
                2 * np.pi * self.line_freq * t[:, None] + self._line_phase[None, :]
            )
        x += self._blinks_between(i0, i0 + n)[:, None] * self._blink_gain[None, :]

        self._n += n
        return np.asarray(x, dtype=np.float32)

    # ---------------------------------------------------------------------------------------

    def _draw_blink_interval(self, first: bool = False) -> int:
        if self.blink_rate <= 0:
            return np.iinfo(np.int64).max
        refractory = 0.6
        mean_wait = max(1.0 / self.blink_rate - refractory, 0.05)
        wait = self._rng_blink.exponential(mean_wait) + (0.0 if first else refractory)
        return max(1, round(wait * self.sfreq))

    def _blinks_between(self, i0: int, i1: int) -> np.ndarray:
        """Blink waveform (unit gain at the eyes) for samples i0 .. i1-1."""
        out = np.zeros(i1 - i0)
        length = self._blink_shape.size
        while self._next_blink < i1:
            amp = float(np.exp(self._rng_blink.normal(0.0, 0.2)))
            self._blinks.append((self._next_blink, amp))
            self._next_blink += self._draw_blink_interval()
        keep = []
        for onset, amp in self._blinks:
            lo, hi = max(onset, i0), min(onset + length, i1)
            if hi > lo:
                out[lo - i0 : hi - i0] += amp * self._blink_shape[lo - onset : hi - onset]
            if onset + length > i1:
                keep.append((onset, amp))
        self._blinks = keep
        return out


def _check_range(name: str, value: object, lo: float, hi: float, hi_open: bool = False) -> None:
    """Raise :class:`ConfigError` unless ``value`` is a real number in the interval."""
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if ok:
        v = float(value)  # type: ignore[arg-type]
        ok = not math.isnan(v) and lo <= v and (v < hi if hi_open else v <= hi)
    if not ok:
        bracket = ")" if hi_open or hi == math.inf else "]"
        raise ConfigError(f"{name} must be a number in [{lo:g}, {hi:g}{bracket}, got {value!r}")


# --------------------------------------------------------------------------------------------
# Schedules and offline runs
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Trial:
    """One cued trial.

    Attributes
    ----------
    onset_s : float
        Cue onset, seconds from the start of the run.
    label : str
        Class label (``"left"``).
    condition : str
        Synthetic condition the trial drives (``"imagine_left"``).
    duration_s : float
        How long the condition lasts after the cue.
    marker : str
        The string sent on the marker stream at the cue.
    """

    onset_s: float
    label: str
    condition: str
    duration_s: float
    marker: str


def make_schedule(
    paradigm: str | Paradigm,
    trials_per_class: int | None = None,
    seed: int | None = None,
    start_s: float = 2.0,
) -> list[Trial]:
    """A balanced, randomised trial schedule.

    Each trial is ``fixation_s`` of fixation, the cue (``onset_s``), ``trial_s`` of the
    condition, then ``rest_s`` plus a uniform ``[0, jitter_s]`` jitter of rest
    (``paradigm.timing``).

    Parameters
    ----------
    paradigm : str or Paradigm
    trials_per_class : int or None
        Trials of each class (None: the paradigm's ``trials_per_class``).
    seed : int or None
        Seed of the order and the jitter.
    start_s : float
        Rest before the first fixation (so the first trial has a baseline).

    Returns
    -------
    trials : list of Trial
        Sorted by onset; every class appears ``trials_per_class`` times.
    """
    par = get_paradigm(paradigm)
    tpc = par.trials_per_class if trials_per_class is None else trials_per_class
    if isinstance(tpc, bool) or not isinstance(tpc, int | np.integer) or tpc < 1:
        raise ConfigError(f"trials_per_class must be a positive int, got {trials_per_class!r}")
    if not (isinstance(start_s, int | float) and start_s >= 0):
        raise ConfigError(f"start_s must be a number >= 0, got {start_s!r}")
    rng = np.random.default_rng(seed)
    classes = [c for c in par.classes for _ in range(int(tpc))]
    order = rng.permutation(len(classes))
    tm = par.timing
    t = float(start_s)
    out: list[Trial] = []
    for i in order:
        spec = classes[int(i)]
        t += tm.fixation_s
        out.append(Trial(round(t, 6), spec.label, spec.condition, tm.trial_s, spec.marker))
        t += tm.trial_s + tm.rest_s + float(rng.uniform(0.0, tm.jitter_s))
    return out


@dataclass
class SimulatedRun:
    """A synthetic calibration run.

    Attributes
    ----------
    data : ndarray, shape (n_channels, n_times), float64
        EEG in microvolts.
    sfreq : float
    ch_names : list of str
    events : list of (int, str)
        (sample index of the cue, class label), in time order.
    trials : list of Trial
    paradigm : str
    """

    data: np.ndarray
    sfreq: float
    ch_names: list[str]
    events: list[tuple[int, str]]
    trials: list[Trial]
    paradigm: str = ""
    headset: str = ""
    seed: int | None = None
    generator_kwargs: dict[str, object] = field(default_factory=dict)

    @property
    def n_times(self) -> int:
        return int(self.data.shape[1])

    @property
    def labels(self) -> list[str]:
        """Class label of each event."""
        return [lab for _, lab in self.events]


def simulate_run(
    paradigm: str | Paradigm = "imagery-left-right",
    trials_per_class: int | None = 20,
    headset: str | Headset = "openbci-cyton",
    seed: int | None = 0,
    **generator_kwargs: object,
) -> SimulatedRun:
    """Simulate a whole cued run offline (no LSL), fast.

    The condition is ``rest`` between trials and the trial's condition from each cue for
    ``trial_s`` seconds.

    Parameters
    ----------
    paradigm : str or Paradigm
    trials_per_class : int or None
        None: the paradigm's own number.
    headset : str or Headset
    seed : int or None
        Seeds both the schedule and the generator.
    **generator_kwargs
        Passed to :class:`SyntheticEEG` (``erd_depth``, ``snr``, ``line_freq``...).

    Returns
    -------
    run : SimulatedRun
    """
    par = get_paradigm(paradigm)
    gen = SyntheticEEG(headset, seed=seed, **generator_kwargs)  # type: ignore[arg-type]
    trials = make_schedule(par, trials_per_class, seed=seed)
    fs = gen.sfreq
    last = trials[-1]
    n_total = round((last.onset_s + last.duration_s + par.timing.rest_s) * fs)
    switches: list[tuple[int, str]] = []
    events: list[tuple[int, str]] = []
    for tr in trials:
        on = round(tr.onset_s * fs)
        switches.append((on, tr.condition))
        switches.append((on + round(tr.duration_s * fs), "rest"))
        events.append((on, tr.label))
    out = np.empty((n_total, gen.n_channels), dtype=np.float32)
    pos = 0
    for at, cond in [*switches, (n_total, "rest")]:
        if at > pos:
            out[pos:at] = gen.generate(at - pos)
            pos = at
        gen.set_condition(cond)
    return SimulatedRun(
        data=out.T.astype(np.float64),
        sfreq=fs,
        ch_names=list(gen.ch_names),
        events=events,
        trials=trials,
        paradigm=par.name,
        headset=gen.headset.name,
        seed=seed,
        generator_kwargs=dict(generator_kwargs),
    )
