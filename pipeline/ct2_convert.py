"""Convert a CTranslate2 Whisper `model.bin` into an openai-whisper `.pt` checkpoint.

Only the packaged weights exist on these machines, and they are in CTranslate2 format; the
openai-whisper backend needs `{"dims": {...}, "model_state_dict": {...}}`. The conversion is exact
(the float16 arrays are copied as they are), so both backends run the same weights.

CTranslate2 layout (`ctranslate2/specs/model_spec.py::_serialize`): uint32 binary version, string
spec name, uint32 revision, uint32 count, then per variable: string name, uint8 rank, uint32
dims, uint8 dtype id, uint32 byte count, raw bytes; then uint32 alias count and (alias, target)
string pairs. Strings are uint16 length (with NUL) + UTF-8 + NUL.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import re
import struct
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.atomic import atomic_path, write_text_atomic
from pipeline.errors import ModelError

# Order of CTranslate2's DataType enum (include/ctranslate2/types.h).
_DTYPES: tuple[Any, ...] = (np.float32, np.int8, np.int16, np.int32, np.float16, None)  # bfloat16 unsupported
ALIGNMENT_SIDECAR_SUFFIX = ".alignment.json"


def read_ct2_model(path: str | os.PathLike[str]) -> tuple[str, dict[str, np.ndarray]]:
    """Read every variable of a CTranslate2 `model.bin`; returns (spec name, name → array copy)."""
    # One read: model files are small (145 MB for base) and every array is copied out.
    data = Path(path).read_bytes()
    off = 0

    def take(fmt: str) -> int:
        nonlocal off
        (value,) = struct.unpack_from(fmt, data, off)
        off += struct.calcsize(fmt)
        return value

    def text() -> str:
        nonlocal off
        n = take("<H")
        s = bytes(data[off : off + n - 1]).decode("utf-8")
        off += n
        return s

    try:
        version = take("<I")
        if version < 5:
            raise ModelError(f"{path}: CTranslate2 binary version {version} is too old to convert")
        spec = text()
        take("<I")  # revision
        variables: dict[str, np.ndarray] = {}
        for _ in range(take("<I")):
            name = text()
            dims = [take("<I") for _ in range(take("<B"))]
            dtype_id = take("<B")
            nbytes = take("<I")
            dtype = _DTYPES[dtype_id] if dtype_id < len(_DTYPES) else None
            if dtype is None:
                raise ModelError(f"{path}: unsupported dtype id {dtype_id} for {name}")
            arr = np.frombuffer(data, dtype=dtype, count=nbytes // np.dtype(dtype).itemsize, offset=off)
            variables[name] = arr.reshape(dims).copy()
            off += nbytes
        for _ in range(take("<I")):
            alias, target = text(), text()
            variables[alias] = variables[target]
    except (struct.error, ValueError, IndexError) as exc:
        raise ModelError(f"{path}: not a readable CTranslate2 model ({exc})") from None
    return spec, variables


def _scalar(v: np.ndarray) -> int:
    return int(np.asarray(v).reshape(-1)[0])


def ct2_to_whisper_state(variables: dict[str, np.ndarray]) -> tuple[dict[str, int], dict[str, np.ndarray]]:
    """Map CTranslate2 Whisper variables to openai-whisper (dims, state dict of float arrays).

    Float16 stays float16, as in OpenAI's own checkpoints; `load_state_dict` casts on load.
    """
    if any(k.endswith("weight_scale") for k in variables):
        raise ModelError("CTranslate2 model is int8-quantised; convert a float16/float32 model instead")

    def arr(name: str) -> np.ndarray:
        try:
            v = variables[name]
            return v if v.dtype in (np.float16, np.float32) else v.astype(np.float32)
        except KeyError:
            raise ModelError(f"CTranslate2 model has no variable {name}; not a Whisper model") from None

    def count_layers(prefix: str) -> int:
        # "encoder/layer_norm/..." also starts with "layer_": count numbered layers only.
        pattern = re.compile(rf"^{prefix}/layer_(\d+)/")
        return len({m.group(1) for k in variables if (m := pattern.match(k))})

    n_audio_layer = count_layers("encoder")
    n_text_layer = count_layers("decoder")
    conv1 = arr("encoder/conv1/weight")
    emb = arr("decoder/embeddings/weight")
    dims = {
        "n_mels": int(conv1.shape[1]),
        "n_audio_ctx": int(variables["encoder/position_encodings/encodings"].shape[0]),
        "n_audio_state": int(conv1.shape[0]),
        "n_audio_head": _scalar(variables["encoder/num_heads"]),
        "n_audio_layer": n_audio_layer,
        "n_vocab": int(emb.shape[0]),
        "n_text_ctx": int(variables["decoder/position_encodings/encodings"].shape[0]),
        "n_text_state": int(emb.shape[1]),
        "n_text_head": _scalar(variables["decoder/num_heads"]),
        "n_text_layer": n_text_layer,
    }
    d = dims["n_audio_state"]
    sd: dict[str, np.ndarray] = {}

    def ln(dst: str, src: str) -> None:
        sd[f"{dst}.weight"] = arr(f"{src}/gamma")
        sd[f"{dst}.bias"] = arr(f"{src}/beta")

    def linear(dst: str, src: str, bias: bool = True) -> None:
        sd[f"{dst}.weight"] = arr(f"{src}/weight")
        if bias:
            sd[f"{dst}.bias"] = arr(f"{src}/bias")

    def self_attn(dst: str, src: str) -> None:
        # linear_0 stacks query, key, value; whisper's key projection has no bias.
        w, b = arr(f"{src}/linear_0/weight"), arr(f"{src}/linear_0/bias")
        sd[f"{dst}.query.weight"], sd[f"{dst}.query.bias"] = w[:d], b[:d]
        sd[f"{dst}.key.weight"] = w[d : 2 * d]
        sd[f"{dst}.value.weight"], sd[f"{dst}.value.bias"] = w[2 * d :], b[2 * d :]
        linear(f"{dst}.out", f"{src}/linear_1")

    def cross_attn(dst: str, src: str) -> None:
        # Cross-attention keeps query alone in linear_0 and fuses key/value in linear_1.
        linear(f"{dst}.query", f"{src}/linear_0")
        w, b = arr(f"{src}/linear_1/weight"), arr(f"{src}/linear_1/bias")
        sd[f"{dst}.key.weight"] = w[:d]
        sd[f"{dst}.value.weight"], sd[f"{dst}.value.bias"] = w[d:], b[d:]
        linear(f"{dst}.out", f"{src}/linear_2")

    def mlp(dst: str, src: str) -> None:
        linear(f"{dst}.mlp.0", f"{src}/linear_0")
        linear(f"{dst}.mlp.2", f"{src}/linear_1")
        ln(f"{dst}.mlp_ln", f"{src}/layer_norm")

    linear("encoder.conv1", "encoder/conv1")
    linear("encoder.conv2", "encoder/conv2")
    sd["encoder.positional_embedding"] = arr("encoder/position_encodings/encodings")
    for i in range(n_audio_layer):
        src, dst = f"encoder/layer_{i}", f"encoder.blocks.{i}"
        self_attn(f"{dst}.attn", f"{src}/self_attention")
        ln(f"{dst}.attn_ln", f"{src}/self_attention/layer_norm")
        mlp(dst, f"{src}/ffn")
    ln("encoder.ln_post", "encoder/layer_norm")

    sd["decoder.token_embedding.weight"] = emb
    sd["decoder.positional_embedding"] = arr("decoder/position_encodings/encodings")
    for i in range(n_text_layer):
        src, dst = f"decoder/layer_{i}", f"decoder.blocks.{i}"
        self_attn(f"{dst}.attn", f"{src}/self_attention")
        ln(f"{dst}.attn_ln", f"{src}/self_attention/layer_norm")
        cross_attn(f"{dst}.cross_attn", f"{src}/attention")
        ln(f"{dst}.cross_attn_ln", f"{src}/attention/layer_norm")
        mlp(dst, f"{src}/ffn")
    ln("decoder.ln", "decoder/layer_norm")
    return dims, sd


def alignment_heads_dump(heads: list[tuple[int, int]], n_text_layer: int, n_text_head: int) -> bytes:
    """openai-whisper's encoding of alignment heads (base85 of gzipped bool[layers, heads])."""
    mask = np.zeros((n_text_layer, n_text_head), dtype=bool)
    for layer, head in heads:
        mask[layer, head] = True
    return base64.b85encode(gzip.compress(mask.tobytes()))


def read_alignment_heads(pt_path: str | os.PathLike[str]) -> bytes | None:
    """The alignment-heads dump stored beside a converted checkpoint, if any."""
    side = Path(str(pt_path) + ALIGNMENT_SIDECAR_SUFFIX)
    try:
        return json.loads(side.read_text())["dump"].encode("ascii")
    except (OSError, ValueError, KeyError):
        return None


def convert_ct2_to_pt(ct2_dir: str | os.PathLike[str], out_path: str | os.PathLike[str]) -> Path:
    """Write `out_path` (atomically) and its alignment-heads sidecar from a CTranslate2 directory.

    The alignment heads come from the CTranslate2 `config.json`: openai-whisper only knows them
    for its own named checkpoints, and without them its word timestamps use every head of the
    upper half of the decoder and drift from faster-whisper's.
    """
    import torch

    ct2_dir, out = Path(ct2_dir), Path(out_path)
    spec, variables = read_ct2_model(ct2_dir / "model.bin")
    if spec != "WhisperSpec":
        raise ModelError(f"{ct2_dir}: CTranslate2 model is a {spec}, not Whisper")
    dims, sd = ct2_to_whisper_state(variables)
    del variables
    try:
        heads = json.loads((ct2_dir / "config.json").read_text()).get("alignment_heads") or []
    except (OSError, ValueError):
        heads = []
    checkpoint = {
        "dims": dims,
        "model_state_dict": {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in sd.items()},
        # Ignored by whisper.load_model; kept so the checkpoint is self-describing.
        "alignment_heads": [[int(a), int(b)] for a, b in heads],
    }
    with atomic_path(out) as tmp:
        with open(tmp, "wb") as fh:  # a read-only folder fails here as PermissionError (the caller's cue)
            torch.save(checkpoint, fh)
        os.chmod(tmp, 0o644)
        if heads:  # the sidecar lands first: a checkpoint is never there without it
            dump = alignment_heads_dump([tuple(h) for h in heads], dims["n_text_layer"], dims["n_text_head"])
            sidecar = {"heads": checkpoint["alignment_heads"], "dump": dump.decode("ascii")}
            write_text_atomic(str(out) + ALIGNMENT_SIDECAR_SUFFIX, json.dumps(sidecar))
    return out
