"""resemblyzer's voice encoder without torch, librosa or resemblyzer's own imports.

Diarization loaded torch, librosa (with scipy.signal and numba) and resemblyzer in every process:
~5 s of wall time before the first file, more than diarizing the whole nightly English set.
Here the same weights (`pretrained.pt` from resemblyzer's wheel, checksummed by the caller) are
read by a restricted unpickler that builds nothing but arrays, and the network (a 3-layer LSTM,
40 mels in, 256 out, then linear + ReLU + L2 norm) runs on onnxruntime from a graph written with
`pipeline.onnx_proto` (ONNX's LSTM operator, checked against resemblyzer's torch forward in
`tests/pipeline/test_speakers_fast_path.py`). The mel frames are resemblyzer's `wav_to_mel_spectrogram`
(librosa's slaney mel filters over a periodic-Hann STFT) in numpy.
"""

from __future__ import annotations

import math
import pickle
import struct
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.onnx_proto import graph_bytes, ifgo_to_iofc, model_bytes, node, opset, tensor, value_info

SAMPLE_RATE = 16000
N_FFT = 400  # resemblyzer hparams: 25 ms windows
HOP = 160  # 10 ms step
N_MELS = 40
NORM_TARGET_DBFS = -30.0  # resemblyzer's normalize_volume target, increase only
HIDDEN = 256
LAYERS = 3
_MEL_BLOCK = 6000  # mel frames (60 s) worked out at a time: no whole-file temporaries
INT8_LAYERS = (1, 2)  # with `int8`: layers 2-3 (0-based); layer 1 reads power mel, too wide a range for int8

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C  # torch's pre-1.6 (non-zip) serialisation
_STORAGES = {"FloatStorage": np.float32, "DoubleStorage": np.float64, "LongStorage": np.int64,
             "IntStorage": np.int32}


class CheckpointError(Exception):
    """The weight file is not the legacy torch checkpoint of tensors this reader understands."""


def read_legacy_checkpoint(path: Path) -> dict[str, np.ndarray]:
    """The `model_state` tensors of a legacy (pre-zip) torch checkpoint, as float32 arrays.

    Only an OrderedDict, tensors and storages are allowed out of the pickle (anything else is
    refused), so reading it runs no code from the file, unlike `torch.load`."""
    storages: dict[str, list[Any]] = {}

    def rebuild(key: str, offset: int, size: tuple[int, ...], stride: tuple[int, ...], *_: Any) -> Any:
        return (key, offset, tuple(size), tuple(stride))

    class _Unpickler(pickle.Unpickler):
        def find_class(self, module: str, name: str) -> Any:
            if (module, name) == ("collections", "OrderedDict"):
                return OrderedDict
            if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
                return rebuild
            if module == "torch" and name in _STORAGES:
                return _STORAGES[name]
            raise CheckpointError(f"{path.name}: refused {module}.{name}")

        def persistent_load(self, pid: Any) -> Any:
            kind, dtype, key, _location, size, view = pid
            if kind != "storage" or view is not None:
                raise CheckpointError(f"{path.name}: unexpected storage {kind}")
            storages.setdefault(key, [np.dtype(dtype), int(size), None])
            return key

    with path.open("rb") as f:
        try:
            if pickle.load(f) != _LEGACY_MAGIC or pickle.load(f) != 1001:
                raise CheckpointError(f"{path.name} is not a legacy torch checkpoint")
            pickle.load(f)  # sys info: little-endian, type sizes
            state = _Unpickler(f).load()["model_state"]
            for key in pickle.load(f):
                dtype, size, _ = storages[key]
                (count,) = struct.unpack("<q", f.read(8))
                raw = f.read(count * dtype.itemsize)
                if count != size or len(raw) != count * dtype.itemsize:
                    raise CheckpointError(f"{path.name}: storage {key} is truncated")
                storages[key][2] = np.frombuffer(raw, dtype=dtype.newbyteorder("<"))
        except (pickle.UnpicklingError, EOFError, KeyError, TypeError, ValueError, struct.error) as exc:
            raise CheckpointError(f"{path.name}: {exc}") from None
    out = {}
    for name, (key, offset, size, stride) in state.items():
        flat = storages[key][2]
        itemsize = flat.dtype.itemsize
        view = np.lib.stride_tricks.as_strided(flat[offset:], size, [s * itemsize for s in stride])
        out[name] = np.array(view, dtype=np.float32)
    return out


# ------------------------------------------------------------------ the ONNX graph


def quantize_columns(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An LSTM weight (4*hidden, inputs), already in ONNX's gate order, as onnxruntime's
    DynamicQuantizeLSTM wants it: int8 (1, inputs, 4*hidden), symmetric, one scale per output
    column (1, 4*hidden), so w ~ q * scale to within half a step per column."""
    wt = w.T.astype(np.float32)
    scale = (np.maximum(np.abs(wt).max(axis=0), 1e-12) / 127.0).astype(np.float32)
    q = np.clip(np.rint(wt / scale), -127, 127).astype(np.int8)
    return q[None], scale[None]


def encoder_graph(weights: dict[str, np.ndarray], int8: bool = False) -> bytes:
    """The serialised ONNX model: mels (batch, frames, 40) -> unit embeddings (batch, 256).

    `int8`: the LSTM weights quantized per column (onnxruntime's DynamicQuantizeLSTM, which
    quantizes its inputs per call) for layers 2-3: 1.8x less CPU per window on this machine's AVX2 cores, at a
    cosine of >= 0.999 to the float embedding (tests; turns and errors in bench/RESULTS.md)."""
    nodes = [node("Transpose", ["mels"], ["x0"], perm=[1, 0, 2])]  # LSTM wants time first
    inits = [tensor("axis1", np.array([1], np.int64)), tensor("axis0", np.array([0], np.int64))]
    x = "x0"
    for k in range(LAYERS):
        w = ifgo_to_iofc(weights[f"lstm.weight_ih_l{k}"])
        r = ifgo_to_iofc(weights[f"lstm.weight_hh_l{k}"])
        b = np.concatenate([ifgo_to_iofc(weights[f"lstm.bias_ih_l{k}"]),
                            ifgo_to_iofc(weights[f"lstm.bias_hh_l{k}"])])[None]
        inits.append(tensor(f"B{k}", b))
        outputs = [f"y{k}", f"h{k}"]
        if int8 and k in INT8_LAYERS:
            (wq, ws), (rq, rs) = quantize_columns(w), quantize_columns(r)
            zero = np.zeros((1, 4 * HIDDEN), np.int8)
            inits += [tensor(f"W{k}", wq), tensor(f"Ws{k}", ws), tensor(f"R{k}", rq), tensor(f"Rs{k}", rs),
                      tensor(f"Z{k}", zero)]
            nodes.append(node("DynamicQuantizeLSTM", [x, f"W{k}", f"R{k}", f"B{k}", "", "", "", "",
                                                      f"Ws{k}", f"Z{k}", f"Rs{k}", f"Z{k}"],
                              outputs, domain="com.microsoft", hidden_size=HIDDEN))
        else:
            inits += [tensor(f"W{k}", w[None]), tensor(f"R{k}", r[None])]
            nodes.append(node("LSTM", [x, f"W{k}", f"R{k}", f"B{k}"], outputs, hidden_size=HIDDEN))
        nodes.append(node("Squeeze", [f"y{k}", "axis1"], [f"x{k + 1}"]))  # drop the direction axis
        x = f"x{k + 1}"
    inits += [tensor("lin_w", np.ascontiguousarray(weights["linear.weight"].T)),
              tensor("lin_b", weights["linear.bias"])]
    nodes += [node("Squeeze", [f"h{LAYERS - 1}", "axis0"], ["last"]),
              node("Gemm", ["last", "lin_w", "lin_b"], ["lin"]),
              node("Relu", ["lin"], ["relu"]),
              node("LpNormalization", ["relu"], ["emb"], axis=-1, p=2)]
    graph = graph_bytes("resemblyzer", nodes, inits, [value_info("mels", ["batch", "frames", N_MELS])],
                        [value_info("emb", ["batch", HIDDEN])])
    opsets = (opset(17), opset(1, "com.microsoft")) if int8 else (opset(17),)
    return model_bytes(graph, opsets=opsets)


def load_encoder(path: Path, threads: int = 1, int8: bool = False) -> Any:
    """An onnxruntime session of the voice encoder in the checkpoint at `path` (`encoder_graph`)."""
    import onnxruntime

    opts = onnxruntime.SessionOptions()
    opts.inter_op_num_threads = 1
    opts.intra_op_num_threads = threads
    return onnxruntime.InferenceSession(encoder_graph(read_legacy_checkpoint(path), int8),
                                        sess_options=opts, providers=["CPUExecutionProvider"])


# ------------------------------------------------------------------------------ mel frames


def _hz_to_mel(f: np.ndarray) -> np.ndarray:
    # Slaney's scale (librosa's default): linear below 1 kHz, logarithmic above.
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    logstep = math.log(6.4) / 27.0
    log = min_log_hz / f_sp + np.log(np.maximum(f, 1e-10) / min_log_hz) / logstep
    return np.where(f >= min_log_hz, log, f / f_sp)


def _mel_to_hz(m: np.ndarray) -> np.ndarray:
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, math.log(6.4) / 27.0
    return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), f_sp * m)


def mel_filters() -> np.ndarray:
    """(40, 201) float32: librosa.filters.mel(sr=16000, n_fft=400, n_mels=40), slaney-normed."""
    freqs = np.fft.rfftfreq(N_FFT, 1.0 / SAMPLE_RATE)
    top = _hz_to_mel(np.array(SAMPLE_RATE / 2))
    mel_f = _mel_to_hz(np.linspace(_hz_to_mel(np.array(0.0)), top, N_MELS + 2))
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, freqs)
    weights = np.zeros((N_MELS, len(freqs)), dtype=np.float32)
    for i in range(N_MELS):
        weights[i] = np.maximum(0, np.minimum(-ramps[i] / fdiff[i], ramps[i + 2] / fdiff[i + 1]))
    weights *= (2.0 / (mel_f[2:N_MELS + 2] - mel_f[:N_MELS]))[:, None]
    return weights


def mel_frames(wav: np.ndarray) -> np.ndarray:
    """(frames, 40) float32: resemblyzer's `normalize_volume` (-30 dBFS, increase only) then
    `wav_to_mel_spectrogram` (25 ms periodic-Hann windows every 10 ms, centred with zero padding,
    power mel), of the whole 16 kHz `wav`, computed `_MEL_BLOCK` frames at a time."""
    span = _MEL_BLOCK * HOP
    # normalize_volume's gain, summed block by block in float64 (no squared copy of the file).
    blocks = (wav[i:i + span].astype(np.float64) for i in range(0, len(wav), span))
    power = sum(float(np.dot(x, x)) for x in blocks)
    change = NORM_TARGET_DBFS - 10 * math.log10(max(power / max(len(wav), 1), 1e-30))
    gain = 10 ** (change / 20) if change > 0 else None
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)  # periodic Hann, float64
    filters = mel_filters()
    frames = 1 + len(wav) // HOP
    out = np.empty((frames, N_MELS), dtype=np.float32)
    for k0 in range(0, frames, _MEL_BLOCK):
        k1 = min(k0 + _MEL_BLOCK, frames)
        # Samples under frames k0..k1-1 of the centred transform, zeros beyond the file's ends.
        lo, hi = k0 * HOP - N_FFT // 2, (k1 - 1) * HOP + N_FFT - N_FFT // 2
        block = np.zeros(hi - lo, dtype=np.float32)
        a, b = max(lo, 0), min(hi, len(wav))
        if b > a:
            block[a - lo:b - lo] = wav[a:b] if gain is None else wav[a:b] * np.float32(gain)
        windows = np.lib.stride_tricks.sliding_window_view(block, N_FFT)[::HOP]
        spectrum = np.abs(np.fft.rfft(windows * window, axis=1).astype(np.complex64)) ** 2
        out[k0:k1] = spectrum @ filters.T
    return out
