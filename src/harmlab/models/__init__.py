"""Models: the tiny embedded model (tokenizer, pretraining, cache), model resolution, chat format.

    harmlab pretrain                       # pretrains the tiny base model (models.base)
    harmlab eval --model tiny|smollm2|DIR  # any `--model` goes through models.resolve

Submodules are imported where needed; this package imports nothing, so that reading the cache
(`models.base`) or the chat format never pays for importing torch.
"""
