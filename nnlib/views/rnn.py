"""Views of recurrent networks: how the spectral radius of the recurrent weights shapes the
hidden states and the gradients through time (notebook 08), and what trained character
models write at a temperature (notebooks 08 and 10).

``sampling_explorer`` takes the notebook's trained ``CharModel``s; without them it trains
a small LSTM once (``small_char_model``, a few seconds) so that the benchmark and the
tests can build it on their own.
"""

import functools

import numpy as np

from nnlib.display.plotting import COLORS, PALETTE, new_figure
from nnlib.display.text import Typewriter, typed_text
from nnlib.display.widgets import LiveView
from nnlib.rnn import run_through_time
from nnlib.sampling import temperature_softmax

__all__ = ["spectral_radius_explorer", "sampling_explorer", "small_char_model", "split_known",
           "dropped_message"]

_T = 50
_UNITS = 5  # hidden units drawn as trajectories


def spectral_radius_explorer():
    """Move the spectral radius of ``w_hh``: hidden states on the left, gradients on the right.

    Controls: the spectral radius (0.5 to 1.5), the size of the inputs (log slider;
    small inputs keep tanh in its linear range) and the seed of the network.
    Left: five hidden units of one sequence over 50 steps. Right: ``||dL/dh_t||``
    for a loss on the last step, on a log scale, with the straight line
    ``radius ** (steps back)`` that the linear theory predicts.
    """
    import ipywidgets as W

    fig, (ax_h, ax_g) = new_figure(1, 2, figsize=(12, 4.2))
    steps = np.arange(_T)
    lines = [ax_h.plot(steps, np.zeros(_T), color=COLORS[k % len(COLORS)], lw=1.8)[0]
             for k in range(_UNITS)]
    ax_h.set(xlim=(0, _T - 1), ylim=(-1.05, 1.05), xlabel="time step $t$",
             ylabel="hidden unit $h_t$", title="Hidden states (5 units, one sequence)")
    ax_h.axhline(0, color="0.6", lw=0.8)
    measured, = ax_g.plot(steps, np.ones(_T), color=PALETTE["blue"], lw=2.2,
                          label=r"measured $\|\partial L / \partial h_t\|$")
    predicted, = ax_g.plot(steps, np.ones(_T), color=PALETTE["vermillion"], lw=1.5, ls="--",
                           label=r"radius$^{\,\mathrm{steps\ back}}$")
    ax_g.set(yscale="log", xlim=(0, _T - 1), ylim=(1e-16, 1e10), xlabel="time step $t$",
             ylabel="gradient norm (log scale)",
             title="Gradient of a loss on the last step, through time")
    ax_g.legend(loc="lower right", fontsize=9)
    text = ax_g.text(0.02, 0.96, "", transform=ax_g.transAxes, va="top", fontsize=10,
                     family="monospace",
                     bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "0.7"})

    def update(radius, input_scale, seed):
        run = run_through_time(radius, T=_T, input_scale=input_scale, seed=seed)
        for k, line in enumerate(lines):
            line.set_ydata(run.hs[0, :, k])
        norms = run.grad_norms
        measured.set_ydata(np.clip(norms, 1e-16, 1e10))
        back = _T - 1 - steps
        predicted.set_ydata(np.clip(norms[-1] * radius ** back.astype(float), 1e-16, 1e10))
        rate = np.exp(np.polyfit(back, np.log(np.maximum(norms, 1e-300)), 1)[0])
        text.set_text(f"radius {radius:.2f}\nmeasured rate {rate:.3f} per step\n"
                      f"after {_T - 1} steps: x{norms[0] / norms[-1]:.1e}")
        saturated = np.mean(np.abs(run.hs) > 0.9)
        if radius > 1 and saturated > 0.1:
            return (f"{saturated:.0%} of the hidden values are beyond ±0.9: tanh is saturated, "
                    f"its small slope caps the explosion")
        return None

    controls = {
        "radius": W.FloatSlider(value=0.9, min=0.5, max=1.5, step=0.05, description="radius",
                                continuous_update=True),
        "input_scale": W.FloatLogSlider(value=0.01, base=10, min=-4, max=0, step=0.25,
                                        description="input size"),
        "seed": W.IntSlider(value=0, min=0, max=9, description="seed"),
    }
    dynamic = [*lines, measured, predicted, text]
    return LiveView(fig, update, controls, title="spectral radius", dynamic=dynamic)



# --------------------------------------------------------------------------- trained char models

_SAMPLE_LENGTH = 200  # characters sampled per model
_LINE = 88  # characters per line of the sampled text
_SHOWN_PROMPT = 40  # the prompt's last characters shown before the continuation
_TOP = 15  # bars of the next-character distribution
# Steps of the fallback model: about 3 s on one core, validation loss ~2.3 nats/char
# against 3.08 for the unigram baseline (the notebooks' models train longer).
FALLBACK_STEPS = 200


@functools.cache
def small_char_model(cell="lstm"):
    """``(model, vocab)``: a small character model of Moby Dick, for the views without a notebook.

    ``fit_char_model`` with ``CHAR_RECIPE`` cut to ``FALLBACK_STEPS`` steps, on the CPU:
    a few seconds, cached for the session (the benchmark and the tests train it once).
    """
    from nnlib.models.recurrent import CHAR_RECIPE, fit_char_model

    result = fit_char_model(cell, recipe=CHAR_RECIPE._replace(steps=FALLBACK_STEPS),
                            device="cpu")
    return result.model, result.vocab


def split_known(vocab, text):
    """``(kept, dropped)``: ``text`` without the characters ``vocab`` lacks, and those characters.

    ``dropped`` lists each unknown character once, in order of appearance.
    """
    known = set(vocab.chars)
    kept = "".join(ch for ch in text if ch in known)
    return kept, list(dict.fromkeys(ch for ch in text if ch not in known))


def dropped_message(dropped):
    """``"'é' is not in the book's alphabet; dropped"`` (``""`` when nothing was dropped)."""
    if not dropped:
        return ""
    names = [repr(ch) for ch in dropped[:5]] + (["…"] if len(dropped) > 5 else [])
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"{listed} {'is' if len(dropped) == 1 else 'are'} not in the book's alphabet; dropped"


def _readable(ch):
    return {" ": "␣", "\n": "↵"}.get(ch, ch)


def _models_and_vocab(models, vocab):
    if models is None:
        if vocab is not None:
            raise ValueError("pass the trained models with their vocab (or neither)")
        model, vocab = small_char_model("lstm")
        return {"LSTM": model}, vocab
    if vocab is None:
        raise ValueError("pass the vocab the models were trained with (result.vocab)")
    if not isinstance(models, dict):
        models = {models.cell.upper() if hasattr(models, "cell") else "Transformer": models}
    if not models:
        raise ValueError("models must name at least one trained CharModel")
    return models, vocab


def sampling_explorer(models=None, vocab=None, prompt="The sea was "):
    """Sample from trained character models at a temperature: what each writes, and why.

    Args:
        models: dict name -> trained ``CharModel`` (``{"RNN": ..., "LSTM": ..., "GRU": ...}``)
            or ``CharTransformer``, or one model. ``None`` trains a small LSTM on Moby Dick
            (a few seconds, cached).
        vocab: the ``CharVocab`` they were trained with (``CharResult.vocab``).
        prompt: the text the models read before they write.

    Controls: the temperature (log slider, 0.1 to 3.2), the prompt (a text box) and
    the seed. One row per model. Left: the prompt (orange) and the next 200
    characters, each drawn from ``softmax(logits / temperature)``; the book's line
    breaks show as ↵. Right: that distribution for the first character after the
    prompt (the 15 likeliest; ␣ is a space), its entropy in nats, and in blue the
    character the model drew. The models run in numpy (``nnlib.sampling``); the seed
    fixes the random numbers, the same for every model and temperature. Characters
    the book never uses are dropped from the prompt, with a message; a transformer
    reads at most its context (the end of a longer prompt), with a message.
    """
    import ipywidgets as W
    from matplotlib.collections import PolyCollection
    from matplotlib.transforms import blended_transform_factory

    from nnlib.models.convert import numpy_twin

    models, vocab = _models_and_vocab(models, vocab)
    nets = {name: numpy_twin(model) for name, model in models.items()}
    V, n = len(vocab), len(nets)
    start_id = vocab.chars.index("\n") if "\n" in vocab.chars else 0  # for an empty prompt
    fig, axes = new_figure(n, 2, figsize=(12.5, 0.2 + 1.8 * n),
                           gridspec_kw={"width_ratios": [2.6, 1]})
    axes = np.asarray(axes).reshape(n, 2)
    typewriter = Typewriter(size=14)
    rows = []
    for (name, _), (ax_t, ax_b) in zip(nets.items(), axes):
        ax_t.axis("off")
        ax_t.set_title(f"{name}: the prompt, then {_SAMPLE_LENGTH} sampled characters",
                       loc="left", fontsize=11)
        body = typed_text(ax_t, typewriter, (0, 0.97))
        bars = PolyCollection([], facecolors=PALETTE["sky"], edgecolors="none")
        ax_b.add_collection(bars)
        ax_b.set(xlim=(-0.6, _TOP - 0.4), ylim=(0, 1), xticks=[], ylabel="probability")
        ax_b.set_xlabel("the 15 likeliest (␣ space, ↵ line break)", labelpad=20, fontsize=10)
        ax_b.set_title("next character after the prompt", fontsize=10)
        ax_b.grid(axis="x", visible=False)
        under = blended_transform_factory(ax_b.transData, ax_b.transAxes)
        labels = [typed_text(ax_b, typewriter, (k, -0.03), under, ha="center")
                  for k in range(_TOP)]
        spread = typed_text(ax_b, typewriter, (0.98, 0.96), ha="right")
        rows.append((name, body, bars, labels, spread))
    states = {}  # (model, prompt ids) -> state: a new temperature or seed reuses it
    shown = {}  # what the last update drew, per model: for tests and the curious

    def update(temperature, prompt, seed):
        kept, dropped = split_known(vocab, prompt)
        messages = [dropped_message(dropped)] if dropped else []
        if not kept:
            kept = vocab.chars[start_id]
            messages.append("the prompt is empty: the models start after a line break")
        ids = vocab.encode(kept)
        head = kept if len(kept) <= _SHOWN_PROMPT else "…" + kept[1 - _SHOWN_PROMPT:]
        noise = np.random.default_rng(seed).gumbel(size=(_SAMPLE_LENGTH, V))
        if len(states) > 200:
            states.clear()
        for name, body, bars, labels, spread in rows:
            net = nets[name]
            context = getattr(net, "context", None)  # a transformer reads a window
            if context is not None and len(ids) > context:
                messages.append(f"{name} reads the last {context} of the prompt's {len(ids)} "
                                f"characters (its context)")
            net_ids = ids if context is None else ids[-context:]
            key = (name, net_ids.tobytes())
            if key not in states:
                states[key] = net.read(net_ids)
            out = net.sample(states[key], noise, temperature)
            text = vocab.decode(out)
            probs, h = temperature_softmax(net.logits(states[key]), temperature)
            shown[name] = {"probs": probs, "entropy": h, "text": text}
            typed = (head + text).replace("\n", "↵")
            body.set_text("\n".join(typed[k:k + _LINE] for k in range(0, len(typed), _LINE)),
                          first=len(head), first_colour=PALETTE["vermillion"])
            top = np.argsort(-probs, kind="stable")[:_TOP]
            bars.set_verts([[(k - 0.4, 0), (k - 0.4, probs[j]), (k + 0.4, probs[j]),
                             (k + 0.4, 0)] for k, j in enumerate(top)])
            bars.set_facecolor([PALETTE["blue"] if j == out[0] else PALETTE["sky"]
                                for j in top])
            for label, j in zip(labels, top):
                label.set_text(_readable(vocab.chars[j]))
            spread.set_text(f"entropy {h:.2f} nats\n(uniform: {np.log(V):.2f})")
        return "; ".join(messages) or None

    controls = {
        "temperature": W.FloatLogSlider(value=1.0, base=10, min=-1, max=0.5, step=0.02,
                                        description="temperature", readout_format=".2f",
                                        style={"description_width": "initial"}),
        "prompt": W.Text(value=prompt, description="prompt", continuous_update=True,
                         layout=W.Layout(width="420px")),
        "seed": W.IntSlider(value=0, min=0, max=19, description="seed"),
    }
    dynamic = [artist for _, body, bars, labels, spread in rows
               for artist in (body, bars, *labels, spread)]
    view = LiveView(fig, update, controls, title="sampling temperature", dynamic=dynamic)
    view.shown, view.nets = shown, nets
    return view
