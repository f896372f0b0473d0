"""Two-stage training: (1) the autoencoder on reconstruction, (2) the multi-label classifier.

One visible loop per stage (``fit_autoencoder``, ``fit_classifier``); helpers take the model and
optimizer as arguments. Everything runs on CPU with deterministic seeds.
"""

from __future__ import annotations

import copy
import logging
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from tqdm import tqdm

from model.demographics import demographics
from model.network import CAEClassifier, CAEConfig
from model.preprocessing import PreprocessConfig, preprocess_batch
from model.training.augment import site_shift
from model.training.data import SphDataset, patient_split
from model.training.device import Precision, resolve_device
from model.training.metrics import choose_thresholds, macro_auroc

__all__ = [
    "TrainConfig",
    "TrainResult",
    "Arrays",
    "prepare_arrays",
    "fit_autoencoder",
    "fit_classifier",
    "predict_arrays",
    "train",
]

logger = logging.getLogger(__name__)


@dataclass
class TrainConfig:
    rate: float = 100.0  # model input rate, Hz
    window_s: float = 10.0
    ae_epochs: int = 15
    epochs: int = 60  # classifier epochs (upper bound; early stopping)
    batch_size: int = 32
    lr: float = 2e-3
    ae_lr: float = 2e-3
    weight_decay: float = 1e-2
    patience: int = 15
    finetune: bool = True  # stage 2 trains the encoder too (False: frozen encoder, head only)
    encoder_lr_factor: float = 0.5  # stage-2 learning rate of the pre-trained encoder relative to ``lr``
    members: int = 3  # ensemble of seeds
    seed: int = 0  # split seed and first member's seed
    augment: bool = True
    label_smoothing: float = 0.0
    recon_weight: float = 0.0  # stage 2: weight of an auxiliary reconstruction loss (0 = off)
    max_pos_weight: float = 10.0
    threads: int = 2
    channels: list[int] = field(default_factory=lambda: [16, 32, 64, 64, 64])
    latent_channels: int = 64
    min_val_positives: int = 3  # labels used for early stopping on validation AUROC
    progress: bool = True
    device: str = "cpu"  # "auto" | "cpu" | "cuda" (mixed precision on CUDA)
    encoder: str = "conv"  # CAE encoder: "conv" (shipped) or "resnet" (model.resnet stages)
    ae_noise: float = 0.0  # stage 1 denoising: std of Gaussian noise added to the AE input
    ae_mask: float = 0.0  # stage 1 masking: fraction of each lead's samples zeroed in 0.2-s spans
    augment_shift: bool = False  # stage 2: model.training.augment.site_shift instead of the basic augmentation
    swa_start: float = 0.0  # stage 2: average the weights of every epoch after this share of epochs (0: off)


@dataclass
class Arrays:
    """Preprocessed windows with their record index, demographics and targets."""

    x: np.ndarray  # (W, 12, T) float32
    owner: np.ndarray  # (W,) record index
    demo: np.ndarray  # (B, 4)
    y: np.ndarray  # (B, L)


@dataclass
class TrainResult:
    models: list[nn.Module]
    thresholds: np.ndarray
    split: tuple[np.ndarray, np.ndarray, np.ndarray]
    val_probabilities: np.ndarray
    history: list[dict]
    seconds: float
    config: TrainConfig


def prepare_arrays(data: SphDataset, pre: PreprocessConfig, chunk: int = 256) -> Arrays:
    """Run the serving preprocessing over a data set (in chunks) and build targets."""
    xs, owners = [], []
    for start in range(0, len(data.signals), chunk):
        sig = [s.astype(np.float32) for s in data.signals[start : start + chunk]]
        x, owner = preprocess_batch(sig, [data.fs] * len(sig), pre)
        xs.append(x)
        owners.append(owner + start)
    return Arrays(
        np.concatenate(xs), np.concatenate(owners), demographics(data.ages, data.sexes), data.targets()
    )


def _augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random circular shift, per-lead amplitude scale and Gaussian noise of a (B, 12, T) batch."""
    b, c, t = x.shape
    shift = torch.randint(0, t, (b, 1, 1), generator=gen)
    idx = (torch.arange(t).view(1, 1, t) + shift) % t
    x = torch.gather(x, 2, idx.expand(b, c, t))
    scale = 1.0 + 0.15 * torch.randn(b, c, 1, generator=gen)
    return x * scale + 0.05 * torch.randn(x.shape, generator=gen)


def _demo_dropout(d: torch.Tensor, gen: torch.Generator, p: float = 0.1) -> torch.Tensor:
    """Hide age and/or sex at random so the imputation path is trained."""
    d = d.clone()
    drop_age = torch.rand(d.shape[0], generator=gen) < p
    d[drop_age, 0], d[drop_age, 1] = 0.0, 1.0
    drop_sex = torch.rand(d.shape[0], generator=gen) < p
    d[drop_sex, 2:] = 0.0
    return d


def _cosine(optimizer: torch.optim.Optimizer, total_steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    warm = max(1, total_steps // 20)

    def factor(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        return 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warm) / max(1, total_steps - warm))))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def _corrupt(x: torch.Tensor, gen: torch.Generator, noise: float, mask: float, window: int) -> torch.Tensor:
    """Denoising/masking AE input: Gaussian noise, and ~``mask`` of each lead zeroed in spans."""
    if noise > 0:
        x = x + noise * torch.randn(x.shape, generator=gen)
    if mask > 0:
        b, c, t = x.shape
        n_spans = max(1, int(round(mask * t / window)))
        starts = torch.randint(0, max(1, t - window), (b, c, n_spans), generator=gen)
        span = torch.arange(window).view(1, 1, 1, window)
        keep = torch.ones(b, c, t)
        keep.scatter_(2, (starts.unsqueeze(-1) + span).clamp_max(t - 1).view(b, c, -1), 0.0)
        x = x * keep
    return x


def fit_autoencoder(
    model: CAEClassifier, train: Arrays, val: Arrays, cfg: TrainConfig, gen: torch.Generator
) -> list[dict]:
    """Stage 1: minimise reconstruction MSE; keeps the weights of the best validation epoch."""
    ae = model.autoencoder
    device = next(ae.parameters()).device
    precision = Precision(device)
    xt, xv = torch.from_numpy(train.x), torch.from_numpy(val.x)
    opt = torch.optim.AdamW(ae.parameters(), lr=cfg.ae_lr, weight_decay=1e-4)
    steps = max(1, cfg.ae_epochs * math.ceil(len(xt) / cfg.batch_size))
    sched = _cosine(opt, steps)
    best, best_state, history = float("inf"), copy.deepcopy(ae.state_dict()), []
    bar = tqdm(range(cfg.ae_epochs), desc="stage 1 autoencoder", disable=not cfg.progress, leave=False)
    for epoch in bar:
        ae.train()
        total = 0.0
        for idx in torch.randperm(len(xt), generator=gen).split(cfg.batch_size):
            xb = xt[idx]
            if cfg.augment:
                xb = _augment(xb, gen)
            xin = _corrupt(xb, gen, cfg.ae_noise, cfg.ae_mask, window=max(1, int(0.2 * cfg.rate)))
            xb, xin = xb.to(device), xin.to(device)
            with precision.autocast():
                loss = F.mse_loss(ae(xin).float(), xb)
            precision.step(loss, opt)
            sched.step()
            total += loss.item() * len(idx)
        ae.eval()
        with torch.inference_mode():
            val_loss = (
                sum(float(F.mse_loss(ae(b.to(device)), b.to(device), reduction="sum")) for b in xv.split(256))
                / xv.numel()
            )
        history.append({"stage": 1, "epoch": epoch, "train_mse": total / len(xt), "val_mse": val_loss})
        bar.set_postfix(train_mse=f"{total / len(xt):.3f}", val_mse=f"{val_loss:.3f}")
        if val_loss < best:
            best, best_state = val_loss, copy.deepcopy(ae.state_dict())
    ae.load_state_dict(best_state)
    logger.info("autoencoder trained", extra={"val_mse": best, "epochs": cfg.ae_epochs})
    return history


def predict_arrays(model: nn.Module, arrays: Arrays, batch: int = 256) -> np.ndarray:
    """(B, L) probabilities per record: sigmoid of each window, max over a record's windows."""
    model.eval()
    device = next(model.parameters()).device
    demo = torch.from_numpy(arrays.demo[arrays.owner])
    out = []
    with torch.inference_mode():
        for start in range(0, len(arrays.x), batch):
            xb = torch.from_numpy(arrays.x[start : start + batch]).to(device)
            logits = model(xb, demo[start : start + batch].to(device))
            out.append(torch.sigmoid(logits.float()).cpu().numpy())
    win = np.concatenate(out) if out else np.zeros((0, arrays.y.shape[1]), np.float32)
    probs = np.zeros(arrays.y.shape, dtype=np.float32)
    np.maximum.at(probs, arrays.owner, win)
    return probs


def fit_classifier(
    model: nn.Module,
    train: Arrays,
    val: Arrays,
    cfg: TrainConfig,
    gen: torch.Generator,
    parameters: list[nn.Parameter] | None = None,
    desc: str = "stage 2 classifier",
) -> list[dict]:
    """Weighted-BCE multi-label training with early stopping on validation macro AUROC."""
    device = next(model.parameters()).device
    precision = Precision(device)
    xt = torch.from_numpy(train.x)
    yt = torch.from_numpy(train.y[train.owner])
    dt = torch.from_numpy(train.demo[train.owner])
    pos = train.y.sum(0)
    neg = len(train.y) - pos
    pos_weight = torch.from_numpy(np.clip(np.sqrt(neg / np.maximum(pos, 1)), 1.0, cfg.max_pos_weight))
    pos_weight = pos_weight.float().to(device)
    if parameters is not None:
        groups: list[dict] = [{"params": parameters, "lr": cfg.lr}]
    elif isinstance(model, CAEClassifier) and cfg.finetune and cfg.encoder_lr_factor != 1.0:
        groups = [
            {"params": list(model.head.parameters()), "lr": cfg.lr},
            {"params": list(model.autoencoder.encoder.parameters()), "lr": cfg.lr * cfg.encoder_lr_factor},
        ]
        if cfg.recon_weight > 0:
            groups.append(
                {"params": list(model.autoencoder.decoder.parameters()), "lr": cfg.lr * cfg.encoder_lr_factor}
            )
    else:
        groups = [{"params": [p for p in model.parameters() if p.requires_grad], "lr": cfg.lr}]
    opt = torch.optim.AdamW(groups, lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps = max(1, cfg.epochs * math.ceil(len(xt) / cfg.batch_size))
    sched = _cosine(opt, steps)
    best, best_state, stale, history = -1.0, copy.deepcopy(model.state_dict()), 0, []
    swa = torch.optim.swa_utils.AveragedModel(model) if cfg.swa_start > 0 else None
    bar = tqdm(range(cfg.epochs), desc=desc, disable=not cfg.progress, leave=False)
    for epoch in bar:
        model.train()
        if not cfg.finetune and isinstance(model, CAEClassifier):
            model.autoencoder.eval()  # frozen encoder: keep its batch-norm statistics
        total = 0.0
        for idx in torch.randperm(len(xt), generator=gen).split(cfg.batch_size):
            xb, yb, db = xt[idx], yt[idx], dt[idx]
            if cfg.augment:
                xb = site_shift(xb, gen, cfg.rate) if cfg.augment_shift else _augment(xb, gen)
                db = _demo_dropout(db, gen)
            if cfg.label_smoothing:
                yb = yb * (1 - cfg.label_smoothing) + 0.5 * cfg.label_smoothing
            xb, yb, db = xb.to(device), yb.to(device), db.to(device)
            with precision.autocast():
                if cfg.recon_weight > 0 and cfg.finetune and isinstance(model, CAEClassifier):
                    z = model.autoencoder.encode(xb)
                    logits = model.classify(z, db).float()
                    loss = F.binary_cross_entropy_with_logits(logits, yb, pos_weight=pos_weight)
                    loss = loss + cfg.recon_weight * F.mse_loss(model.autoencoder.decode(z).float(), xb)
                else:
                    logits = model(xb, db).float()
                    loss = F.binary_cross_entropy_with_logits(logits, yb, pos_weight=pos_weight)
            precision.step(loss, opt)
            sched.step()
            total += loss.item() * len(idx)
        score = macro_auroc(val.y, predict_arrays(model, val), cfg.min_val_positives)
        history.append({"stage": 2, "epoch": epoch, "train_loss": total / len(xt), "val_macro_auroc": score})
        bar.set_postfix(loss=f"{total / len(xt):.3f}", val_auroc=f"{score:.3f}")
        if score > best:
            best, best_state, stale = score, copy.deepcopy(model.state_dict()), 0
        else:
            stale += 1
            if stale >= cfg.patience and swa is None:
                break
        if swa is not None and epoch + 1 >= cfg.swa_start * cfg.epochs:
            swa.update_parameters(model)
    model.load_state_dict(best_state)
    if swa is not None and swa.n_averaged.item() > 0:
        best = _adopt_swa(model, swa, train, val, cfg, best)
    logger.info("classifier trained", extra={"val_macro_auroc": best, "epochs_run": len(history)})
    return history


def _adopt_swa(
    model: nn.Module,
    swa: torch.optim.swa_utils.AveragedModel,
    train: Arrays,
    val: Arrays,
    cfg: TrainConfig,
    best: float,
) -> float:
    """Load the weight average into ``model`` (batch-norm statistics recomputed on the training
    windows) where it scores at least as well on validation as the best single epoch."""
    averaged = copy.deepcopy(model)
    averaged.load_state_dict(swa.module.state_dict())
    _recompute_batch_norm(averaged, train, cfg.batch_size)
    score = macro_auroc(val.y, predict_arrays(averaged, val), cfg.min_val_positives)
    logger.info("weight average", extra={"val_macro_auroc": score, "best_epoch_val_macro_auroc": best,
                                         "epochs_averaged": int(swa.n_averaged.item())})  # fmt: skip
    if score >= best:
        model.load_state_dict(averaged.state_dict())
        return score
    return best


def _recompute_batch_norm(model: nn.Module, arrays: Arrays, batch: int) -> None:
    """Batch-norm running statistics from one pass over ``arrays`` (cumulative average)."""
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return
    device = next(model.parameters()).device
    for m in norms:
        m.reset_running_stats()
        m.momentum = None
    model.train()
    demo = torch.from_numpy(arrays.demo[arrays.owner])
    with torch.inference_mode():
        for start in range(0, len(arrays.x), batch):
            model(
                torch.from_numpy(arrays.x[start : start + batch]).to(device),
                demo[start : start + batch].to(device),
            )
    model.eval()


def train(
    data: SphDataset,
    cfg: TrainConfig,
    on_member: Callable[[int, CAEClassifier], None] | None = None,
) -> TrainResult:
    """Split by patient, preprocess, then train ``cfg.members`` CAE classifiers (seeds seed, seed+1, ...)."""
    started = time.perf_counter()
    torch.set_num_threads(cfg.threads)
    device = resolve_device(cfg.device)
    pre = PreprocessConfig(fs=cfg.rate, window_s=cfg.window_s)
    split = patient_split(data.patient_ids, seed=cfg.seed)
    train_arr = prepare_arrays(data.subset(split[0]), pre)
    val_arr = prepare_arrays(data.subset(split[1]), pre)
    logger.info(
        "split", extra={"train": len(split[0]), "val": len(split[1]), "test": len(split[2]), "rate": cfg.rate}
    )
    models: list[nn.Module] = []
    history: list[dict] = []
    for member in range(cfg.members):
        seed = cfg.seed + member
        torch.manual_seed(seed)
        np.random.seed(seed)
        gen = torch.Generator().manual_seed(seed)
        mcfg = CAEConfig(
            window=pre.window, channels=list(cfg.channels), latent_channels=cfg.latent_channels,
            n_labels=len(data.labels), encoder=cfg.encoder,
        )  # fmt: skip
        model = CAEClassifier(mcfg).to(device)
        history += [dict(h, member=member) for h in fit_autoencoder(model, train_arr, val_arr, cfg, gen)]
        if not cfg.finetune:
            for p in model.autoencoder.parameters():
                p.requires_grad_(False)
        history += [dict(h, member=member) for h in fit_classifier(model, train_arr, val_arr, cfg, gen)]
        for p in model.parameters():
            p.requires_grad_(True)
        model.cpu().eval()
        models.append(model)
        if on_member is not None:
            on_member(member, model)
    val_probs = np.mean([predict_arrays(m, val_arr) for m in models], axis=0)
    thresholds = choose_thresholds(val_arr.y, val_probs)
    seconds = time.perf_counter() - started
    logger.info("training finished", extra={"seconds": round(seconds, 1), "members": len(models)})
    return TrainResult(models, thresholds, split, val_probs, history, seconds, cfg)


def config_dict(cfg: TrainConfig) -> dict:
    return asdict(cfg)
