"""``avu data show``: one clip's frames with its ground truth, beside its spectrogram."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from avu import fileio
from avu.errors import AvuInputError


def spectrogram(audio: np.ndarray, sr: int, n_fft: int = 512, hop: int = 160) -> np.ndarray:
    """Log-power spectrogram (freq, time) in dB, Hann window."""
    if len(audio) < n_fft:
        audio = np.pad(audio, (0, n_fft - len(audio)))
    n = 1 + (len(audio) - n_fft) // hop
    idx = np.arange(n_fft)[None, :] + hop * np.arange(n)[:, None]
    frames = audio[idx] * np.hanning(n_fft)[None, :]
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    return 10 * np.log10(power.T + 1e-10)


def _caption(benchmark: str, target: dict, t: int, classes) -> str:
    if benchmark == "ave":
        c = int(target["labels"][t])
        return "bg" if c == 28 else classes.AVE_CLASSES[c][:14]
    if benchmark == "llp" and "audio" in target:
        a = [classes.LLP_CLASSES[c][:8] for c in np.flatnonzero(np.asarray(target["audio"][t]))]
        v = [classes.LLP_CLASSES[c][:8] for c in np.flatnonzero(np.asarray(target["visual"][t]))]
        return f"A:{','.join(a) or '-'}\nV:{','.join(v) or '-'}"
    return f"t={t}"


def show(root: str | Path, benchmark: str, sample_id: str | None, split: str, out: str | Path) -> Path:
    """Render a picture of one sample (frames at full size, GT overlaid) to ``out`` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from avu.data import classes
    from avu.data.datasets import build_dataset

    size = 224
    ds = build_dataset(benchmark, root, split, frame_size=size, cache=False)
    if sample_id is None:
        i = 0
    elif sample_id in ds.ids:
        i = ds.ids.index(sample_id)
    else:
        raise AvuInputError(None, "--id", f"no sample {sample_id!r} in {benchmark}/{split} ({len(ds)} samples)")
    item = ds[i]
    frames = item["frames"].permute(0, 2, 3, 1).numpy()
    audio = item["audio"].numpy()
    target = {k: (v.numpy() if hasattr(v, "numpy") else v) for k, v in item["target"].items()}
    n = len(frames)
    cols = min(n, 5)
    rows = (n + cols - 1) // cols
    fig = plt.figure(figsize=(2.2 * cols + 4.5, 2.5 * rows + 0.6), dpi=72)
    grid = fig.add_gridspec(rows, cols + 2)
    palette = np.asarray(classes.avss_palette(), np.float32) / 255.0
    for t in range(n):
        ax = fig.add_subplot(grid[t // cols, t % cols])
        img = frames[t].copy()
        if benchmark in ("avs_s4", "avs_ms3"):
            m = target["masks"][t].astype(bool)
            img[m] = 0.4 * img[m] + 0.6 * np.array([0.1, 0.45, 1.0])
        elif benchmark == "avss":
            lab = target["labels"][t]
            m = lab > 0
            img[m] = 0.45 * img[m] + 0.55 * palette[lab[m]]
        ax.imshow(img)
        if benchmark == "vggss":
            for x0, y0, x1, y1 in np.asarray(target["boxes"]).reshape(-1, 4) * size:
                ax.add_patch(plt.Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, lw=2, ec="lime"))
        if benchmark == "avss":
            names = [classes.AVSS_CLASSES[c] for c in np.unique(target["labels"][t]) if c > 0]
            ax.set_title(",".join(names)[:24] or "-", fontsize=7)
        else:
            ax.set_title(_caption(benchmark, target, t, classes), fontsize=7)
        ax.axis("off")
    ax = fig.add_subplot(grid[:, cols:])
    spec = spectrogram(audio, ds.sample_rate)
    seconds = len(audio) / ds.sample_rate
    ax.imshow(spec, origin="lower", aspect="auto", cmap="magma", extent=(0, seconds, 0, ds.sample_rate / 2000),
              vmin=spec.max() - 80, vmax=spec.max())
    ax.set_xlabel("time (s)")
    ax.set_ylabel("kHz")
    title = f"{benchmark} / {split} / {item['sample_id']}"
    if benchmark == "avqa":
        title += f"\nQ: {target['question']}  A: {target['answer']}  ({'/'.join(target['qtype'])})"
    elif benchmark == "vggss":
        title += f"  ({target['class']})"
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    import io

    from PIL import Image

    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    # a 256-colour palette keeps the picture small enough to commit under docs/img/
    img = Image.open(io.BytesIO(buf.getvalue())).convert("RGB").quantize(256, dither=Image.Dither.NONE)
    out = Path(out)
    with fileio.atomic_path(out, suffix=".png") as tmp:
        img.save(tmp, format="PNG", optimize=True)
    return out
