"""Inference numerics of a BERT classifier: ``fp32``, ``bf16``, ``int8``, two OpenVINO paths, or ``auto``.

Not to be confused with the *mixed precision* of training (``TrainConfig.mixed_precision``).

* ``fp32``: the model as trained.
* ``bf16``: weights and activations in bfloat16. On CPUs with AVX512-BF16 or AMX-BF16 oneDNN runs
  the matrix multiplies natively (accumulating in fp32); elsewhere bf16 would be emulated and
  slower than fp32, so it is refused there. Casting the weights once measured faster here than
  ``torch.autocast`` (which re-casts every weight on every call) with the same numerics in the
  matrix multiplies; the accuracy guard checks the rest.
* ``int8``: torch's dynamic quantization of the encoder's linear layers (int8 weights, activations
  quantized per batch; embeddings, pooler and classifier head stay fp32). On CPUs with AMX-INT8
  the oneDNN engine is used; it measured about 1.5x the default engine's speed on a bert-base
  shape here. CPU only.
* ``openvino-bf16``, ``openvino-int8``: the model converted to an OpenVINO graph (fused attention,
  brgemm kernels), int8 by NNCF's static post-training quantization; the converted graph is cached
  in the model folder per model version (:mod:`.openvino`; the ``openvino`` extra). CPU only.
* ``auto``: the fastest path, timed at load time on a one-layer copy of the model, among those
  whose accuracy guard holds for this model (``precision_guard.json`` in the model folder, written
  by ``policytag train`` and ``policytag guard``). Without a guard, or when no path qualifies,
  ``auto`` is ``fp32``.

One module per job: :mod:`.names` (the names, without torch), :mod:`.cpu` (what the CPU and torch
build can run), :mod:`.convert` (fp32 to bf16 or int8), :mod:`.openvino` (the OpenVINO engine and its
cache), :mod:`.memory` (handing memory back),
:mod:`.probe` (timing the paths), :mod:`.choose` (the choice and its description) and :mod:`.guard`
(the accuracy guard file). This package imports nothing itself, so that naming the numerics
(settings, ``--help``) does not load torch.
"""
