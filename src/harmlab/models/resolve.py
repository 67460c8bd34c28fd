"""Model references: how a name given to `--model` or a YAML `model:` key becomes weights.

    harmlab eval --model tiny | smollm2 | ./runs/sft-1 | /models/my-hf-folder | org/name

A reference is tried, in order, as:
  1. a name in `MODELS` (built-ins `tiny`, `student` and `smollm2`, imported only when named;
     users add theirs with `@MODELS.register("name")`), or `package.module:function`, the escape
     hatch: either is a function returning a model folder (or a run directory, read as in 2);
  2. an existing local folder: a Hugging Face model folder is itself; a run directory gives its
     `final/` model, or else its newest `checkpoint-N/`;
  3. something written as a path (`/`, `./`, `../`, `~`, or several separators) that does not
     exist: an error naming the folder;
  4. a hub id (`org/name` or a bare name): returned for `from_pretrained` only when the user
     allowed network; otherwise a one-line error saying how to allow it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, cast

from harmlab import HarmlabError, network_allowed
from harmlab.models.folders import check_model_folder, quiet_hf_progress
from harmlab.registry import DOTTED, Registry

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

ModelResolver = Callable[[], Path]
"""Returns the local folder of a named model, building or converting it first if needed."""

MODELS = Registry[ModelResolver](
    "model",
    {
        "tiny": "harmlab.models.embedded:ensure_tiny_model",
        "student": "harmlab.models.embedded:ensure_student_model",
        "smollm2": "harmlab.models.smollm2:smollm2_folder",
    },
    accepts=callable,
)
"""Model names; `@MODELS.register("name")` adds one."""

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[A-Za-z0-9][\w.-]*)?$")
_WEIGHT_FILES = (
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
)


def resolve_model_path(ref: str) -> Path | str:
    """A local model folder for `ref`, or `ref` itself when it is a hub id and network is on."""
    if ref in MODELS or DOTTED.match(ref):
        return model_in_folder(Path(MODELS.get(ref)()))
    path = Path(ref).expanduser()
    if path.is_dir():
        return model_in_folder(path)
    if path.exists():
        raise HarmlabError(f"model '{ref}' is a file; give the folder that holds the model")
    if _looks_like_path(ref) or not _HUB_ID.match(ref):
        raise HarmlabError(f"model folder '{ref}' does not exist")
    if not network_allowed():
        raise HarmlabError(_network_off_message(ref))
    return ref


def model_in_folder(folder: Path) -> Path:
    """The model a local folder holds: itself, its `final/`, or its newest `checkpoint-N/`."""
    if _has_weights(folder):
        return folder
    final = folder / "final"
    if (final / "config.json").is_file():
        return final
    checkpoints = [
        (int(ckpt.name.removeprefix("checkpoint-")), ckpt)
        for ckpt in folder.glob("checkpoint-*")
        if ckpt.name.removeprefix("checkpoint-").isdigit() and (ckpt / "config.json").is_file()
    ]
    if checkpoints:
        return max(checkpoints)[1]
    if (folder / "config.json").is_file():
        return folder  # a config without weights we recognise: let from_pretrained judge it
    raise HarmlabError(
        f"folder '{folder}' holds no model: no config.json, final/ or checkpoint-N/ inside"
    )


def checked_model_source(ref: str) -> Path | str:
    """`resolve_model_path`, then the folder's files checked (or the hub reached): a damaged
    folder is one line here, before anything imports torch or transformers."""
    source = resolve_model_path(ref)
    if isinstance(source, Path):
        check_model_folder(source)
    else:
        check_hub_reachable()
    return source


def load_model(
    ref: str,
    *,
    dtype: torch.dtype | str | None = None,
    device: torch.device | str | None = None,
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Load a model and its tokenizer, ready for generation: eval mode, left padding.

    `dtype=None` keeps the dtype the checkpoint was saved in (the tiny and SmolLM2 folders are
    float32). A tokenizer without a pad token pads with its end-of-sequence token.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source = checked_model_source(ref)
    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
        with quiet_hf_progress():  # a weight-loading bar per call clutters every command
            model = AutoModelForCausalLM.from_pretrained(source, dtype=dtype or "auto")
    except (OSError, ValueError) as error:  # files transformers cannot read, the hub failing
        raise HarmlabError(
            f"model '{ref}' cannot be loaded: {' '.join(str(error).split())}"
        ) from None
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if model.generation_config.pad_token_id is None:
        model.generation_config.pad_token_id = tokenizer.pad_token_id
    if device is not None:
        # cast: transformers types `to` through a decorator that mypy reads as taking a model.
        cast("torch.nn.Module", model).to(device)
    model.eval()
    return model, tokenizer


def check_hub_reachable(timeout: float = 5.0) -> None:
    """Fail at once, in one line, when network is allowed but the hub does not answer
    (transformers would retry each file for about a minute before a traceback)."""
    import urllib.error
    import urllib.request

    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    try:
        urllib.request.urlopen(endpoint, timeout=timeout).close()
    except urllib.error.HTTPError:
        return  # it answered, whatever it said
    except (OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise HarmlabError(
            f"--allow-network is on but {endpoint} cannot be reached ({reason}); check the "
            "connection, or give a local model folder"
        ) from None


def _has_weights(folder: Path) -> bool:
    return (folder / "config.json").is_file() and any(
        (folder / name).is_file() for name in _WEIGHT_FILES
    )


def _looks_like_path(ref: str) -> bool:
    """Written as a filesystem path rather than a hub id (which has at most one '/')."""
    separators = ref.count(os.sep) + (ref.count(os.altsep) if os.altsep else 0)
    return ref.startswith(("/", "./", "../", "~", ".\\")) or ref == "." or separators > 1


def _network_off_message(ref: str) -> str:
    known = "" if "/" in ref else f" (registered: {', '.join(MODELS.names())})"
    return (
        f"model '{ref}' is not a local folder{known} and network is off; pass --allow-network "
        "(or set HARMLAB_ALLOW_NETWORK=1) to download it from the Hugging Face hub"
    )
