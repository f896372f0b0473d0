"""Training-time augmentation for the shift to other hospitals' recordings (issue 17).

Works on preprocessed windows (B, 12, T): band-passed, detrended and z-scored per lead at the model
rate (``model.preprocessing``), so what survives preprocessing is what is simulated here. Carts and
sites differ by: sampling clocks and heart rates (a small time stretch), residual baseline wander
the band-pass lets through, muscle (EMG) noise, mains interference (at 100 Hz a 60 Hz mains
residue aliases to 40 Hz), leads missing or unreadable (zeroed, as the worker zeroes unreadable
leads) and the window's position in the beat cycle (circular time shift). Each window is then
z-scored per lead again, as serving windows are; dropped leads stay zero.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

__all__ = ["SiteShift", "site_shift"]


class SiteShift:
    """Probabilities and sizes of each perturbation (per window; sizes in units of the lead's SD)."""

    stretch = 0.08  # time stretch factor within 1 +- stretch (resampling jitter, rate)
    wander_p, wander_amplitude, wander_hz = 0.5, 0.3, (0.05, 0.7)
    emg_p, emg_amplitude = 0.5, 0.25
    mains_p, mains_amplitude, mains_hz = 0.2, 0.15, (38.0, 49.0)
    dropout_p, dropout_max_leads = 0.15, 3


def _uniform(gen: torch.Generator, shape: tuple[int, ...], low: float, high: float) -> torch.Tensor:
    return low + (high - low) * torch.rand(shape, generator=gen)


def _stretch(x: torch.Tensor, gen: torch.Generator, amount: float) -> torch.Tensor:
    """Each window resampled by its own factor in 1 +- amount, then circularly cut back to T."""
    b, c, t = x.shape
    factors = _uniform(gen, (b,), 1.0 - amount, 1.0 + amount)
    out = torch.empty_like(x)
    for i in range(b):
        length = max(8, int(round(t * float(factors[i]))))
        y = F.interpolate(x[i : i + 1], size=length, mode="linear", align_corners=False)[0]
        reps = math.ceil(t / length)
        out[i] = y.repeat(1, reps)[:, :t] if reps > 1 else y[:, :t]
    return out


def _tone(gen: torch.Generator, b: int, c: int, t: int, rate: float, hz: tuple[float, float]) -> torch.Tensor:
    """One sinusoid per window (random frequency and phase) with a random gain per lead."""
    freq = _uniform(gen, (b, 1, 1), *hz)
    phase = _uniform(gen, (b, 1, 1), 0.0, 2 * math.pi)
    time = torch.arange(t).view(1, 1, t) / rate
    return torch.sin(2 * math.pi * freq * time + phase) * _uniform(gen, (b, c, 1), -1.0, 1.0)


def _emg(gen: torch.Generator, shape: tuple[int, int, int]) -> torch.Tensor:
    """Broadband noise with its low frequencies removed (first difference), unit SD."""
    noise = torch.randn((shape[0], shape[1], shape[2] + 1), generator=gen)
    return (noise[..., 1:] - noise[..., :-1]) / math.sqrt(2.0)


def _chosen(gen: torch.Generator, b: int, p: float) -> torch.Tensor:
    return (torch.rand((b, 1, 1), generator=gen) < p).float()


def site_shift(
    x: torch.Tensor, gen: torch.Generator, rate: float, s: type[SiteShift] = SiteShift
) -> torch.Tensor:
    """Perturb a (B, 12, T) batch of preprocessed windows as another site's recordings might be."""
    b, c, t = x.shape
    shift = torch.randint(0, t, (b, 1, 1), generator=gen)
    x = torch.gather(x, 2, ((torch.arange(t).view(1, 1, t) + shift) % t).expand(b, c, t))
    x = _stretch(x, gen, s.stretch)
    x = x + _chosen(gen, b, s.wander_p) * s.wander_amplitude * _tone(gen, b, c, t, rate, s.wander_hz)
    emg_gain = _uniform(gen, (b, c, 1), 0.0, s.emg_amplitude)
    x = x + _chosen(gen, b, s.emg_p) * emg_gain * _emg(gen, (b, c, t))
    if rate / 2 > s.mains_hz[0]:
        hz = (s.mains_hz[0], min(s.mains_hz[1], rate / 2 - 1.0))
        x = x + _chosen(gen, b, s.mains_p) * s.mains_amplitude * _tone(gen, b, c, t, rate, hz)
    x = (x - x.mean(dim=2, keepdim=True)) / x.std(dim=2, keepdim=True).clamp_min(1e-6)
    n_drop = torch.randint(1, s.dropout_max_leads + 1, (b,), generator=gen)
    ranks = torch.rand((b, c), generator=gen).argsort(dim=1).argsort(dim=1)
    drop = (ranks < n_drop[:, None]) & (torch.rand((b, 1), generator=gen) < s.dropout_p)
    return x * (~drop).unsqueeze(-1).float()
