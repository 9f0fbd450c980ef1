"""silero-vad 6.2.3 run a block of chunks at a time, with the same probabilities as chunk by chunk.

silero's model takes one 32 ms chunk (with 4 ms of the chunk before) and its LSTM state, and gives
a speech probability and the next state. Run chunk by chunk, onnxruntime spends ~80 µs per chunk
mostly on the graph's per-call work (control flow, re-slicing the LSTM weights), and it was the
longest single-threaded step of diarization. Only the LSTM carries state from chunk to chunk: the
STFT and the convolutions before it see one chunk each. So the model's own 16 kHz nodes, copied
unchanged from the checksummed file, run on a batch of chunks, and the LSTM, with silero's own
weights reordered as its graph reorders them, runs over the batch as a sequence carrying the
state from block to block. `load_silero` checks on a test signal that every probability equals
the chunk-by-chunk model's, bit for bit, and refuses the blocked form otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.onnx_proto import (
    ProtoError,
    fields,
    graph_bytes,
    ifgo_to_iofc,
    model_bytes,
    node,
    repeated,
    scalar,
    tensor,
    tensor_array,
    value_info,
)

SAMPLE_RATE = 16000
CHUNK = 512  # samples per silero step at 16 kHz (32 ms)
CONTEXT = 64  # samples of the previous chunk silero expects in front of each chunk
BLOCK = 256  # chunks (8.2 s) per run of the blocked model
_ENCODED = "/encoder/3/activation/Relu_output_0"  # the last stateless tensor in silero's graph


class SileroGraphError(Exception):
    """silero's model file is not laid out as the blocked form expects."""


@dataclass(frozen=True, slots=True)
class SileroVad:
    """silero-vad: its own session (`stream`, chunk by chunk) and, when it reproduced it exactly
    at load, the blocked form (`encoder` on a batch of chunks, `decoder` over them in sequence)."""

    stream: Any
    encoder: Any | None = None
    decoder: Any | None = None

    def probabilities_into(self, wav: np.ndarray, out: np.ndarray,
                           report: Callable[[int], None] | None = None) -> None:
        """Fill `out` (one float32 per 32 ms chunk of 16 kHz `wav`) with speech probabilities;
        `report(done)` after every `BLOCK` chunks and at the end."""
        wav = np.ascontiguousarray(wav, dtype=np.float32)
        if self.encoder is None:
            _streamed(self.stream, wav, out, report)
            return
        h = np.zeros((1, 1, 128), dtype=np.float32)
        c = np.zeros((1, 1, 128), dtype=np.float32)
        n = len(out)
        for k0 in range(0, n, BLOCK):
            k1 = min(k0 + BLOCK, n)
            # Chunk i is samples i*CHUNK - CONTEXT .. (i+1)*CHUNK, zeros outside the file.
            lo, hi = k0 * CHUNK - CONTEXT, k1 * CHUNK
            span = np.zeros(hi - lo, dtype=np.float32)
            a, b = max(lo, 0), min(hi, len(wav))
            span[a - lo:b - lo] = wav[a:b]
            chunks = np.lib.stride_tricks.sliding_window_view(span, CHUNK + CONTEXT)[::CHUNK]
            encoded = self.encoder.run(None, {"input": np.ascontiguousarray(chunks)})[0]
            prob, h, c = self.decoder.run(None, {"x": encoded.reshape(-1, 1, 128), "h0": h, "c0": c})
            out[k0:k1] = prob[:, 0, 0]
            if report is not None and k1 < n:
                report(k1)
        if report is not None:
            report(n)


def _streamed(session: Any, wav: np.ndarray, out: np.ndarray, report: Callable[[int], None] | None) -> None:
    """silero chunk by chunk, as its own package runs it."""
    state = np.zeros((2, 1, 128), dtype=np.float32)
    sr = np.array(SAMPLE_RATE, dtype=np.int64)
    for i in range(len(out)):
        lo, hi = i * CHUNK - CONTEXT, (i + 1) * CHUNK
        if lo >= 0 and hi <= len(wav):
            chunk = wav[lo:hi][None, :]
        else:
            chunk = np.zeros((1, hi - lo), dtype=np.float32)
            chunk[0, max(-lo, 0):min(hi, len(wav)) - lo] = wav[max(lo, 0):hi]
        prob, state = session.run(None, {"input": chunk, "state": state, "sr": sr})
        out[i] = prob[0, 0]
        if report is not None and (i + 1) % BLOCK == 0 and i + 1 < len(out):
            report(i + 1)
    if report is not None:
        report(len(out))


def blocked_graphs(model: bytes) -> tuple[bytes, bytes]:
    """(encoder, decoder) ONNX models cut from silero 6.2.3's file: the 16 kHz branch's nodes up to
    the encoder's last ReLU, copied as they are, and its LSTM, ReLU, 1x1 convolution and sigmoid
    over a sequence of chunks."""
    try:
        top = fields(model)
        graph = fields(_bytes(scalar(top, 7)))
        branch = _branch_16k(graph)
        parsed = [(fields(n), n) for n in repeated(branch, 1)]
        producer = {o.decode(): (f, raw) for f, raw in parsed for o in repeated(f, 2)}
        encoded = next(name for name in producer if name.endswith(_ENCODED))
        # The nodes the encoded tensor depends on, in the file's (topological) order.
        needed: set[bytes] = set()
        todo = [encoded]
        while todo:
            name = todo.pop()
            if name in producer and producer[name][1] not in needed:
                f, raw = producer[name]
                needed.add(raw)
                todo += [i.decode() for i in repeated(f, 1) if i]
        chain = [raw for _, raw in parsed if raw in needed]
        weights = {name: _constant(f) for f, _ in parsed for name in [repeated(f, 2)[0].decode()]
                   if scalar(f, 4) == b"Constant"}

        def weight(suffix: str) -> np.ndarray:
            return next(v for k, v in weights.items() if k.endswith(suffix))

        w_ih, w_hh = weight("decoder.rnn.weight_ih"), weight("decoder.rnn.weight_hh")
        b_ih, b_hh = weight("decoder.rnn.bias_ih"), weight("decoder.rnn.bias_hh")
        conv_w, conv_b = weight("decoder.decoder.2.weight"), weight("decoder.decoder.2.bias")
    except (ProtoError, StopIteration, KeyError, ValueError, IndexError) as exc:
        raise SileroGraphError(f"unexpected silero graph ({exc})") from None
    opsets = repeated(top, 8)
    ir = int(scalar(top, 1))  # type: ignore[arg-type]
    encoder = graph_bytes("silero_encoder", chain, [], [value_info("input", ["batch", CHUNK + CONTEXT])],
                          [value_info(encoded, ["batch", 128, 1])])
    decoder_nodes = [
        node("LSTM", ["x", "W", "R", "B", "", "h0", "c0"], ["y", "h", "c"], hidden_size=128),
        node("Squeeze", ["y", "axes12"], ["hidden"]),  # (n, 128)
        node("Unsqueeze", ["hidden", "axis2"], ["frames"]),  # (n, 128, 1), as silero's decoder sees it
        node("Relu", ["frames"], ["relu"]),
        node("Conv", ["relu", "conv_w", "conv_b"], ["logit"], dilations=[1], group=1, kernel_shape=[1],
             pads=[0, 0], strides=[1]),
        node("Sigmoid", ["logit"], ["prob"]),
    ]
    inits = [tensor("W", ifgo_to_iofc(w_ih)[None]), tensor("R", ifgo_to_iofc(w_hh)[None]),
             tensor("B", np.concatenate([ifgo_to_iofc(b_ih), ifgo_to_iofc(b_hh)])[None]),
             tensor("axes12", np.array([1, 2], np.int64)), tensor("axis2", np.array([2], np.int64)),
             tensor("conv_w", conv_w), tensor("conv_b", conv_b)]
    state = [value_info(name, [1, 1, 128]) for name in ("h0", "c0")]
    decoder = graph_bytes("silero_decoder", decoder_nodes, inits, [value_info("x", ["n", 1, 128]), *state],
                          [value_info("prob", ["n", 1, 1]), value_info("h", [1, 1, 128]),
                           value_info("c", [1, 1, 128])])
    return model_bytes(encoder, ir, opsets), model_bytes(decoder, ir, opsets)


def _bytes(value: int | bytes) -> bytes:
    if not isinstance(value, bytes):
        raise ProtoError("expected a message")
    return value


def _branch_16k(graph: list[tuple[int, int | bytes]]) -> list[tuple[int, int | bytes]]:
    """The subgraph silero runs at 16 kHz: its top-level If on `sr == 16000` takes then_branch."""
    nodes = [fields(n) for n in repeated(graph, 1)]
    consts = [n for n in nodes if scalar(n, 4) == b"Constant"]
    rate = tensor_array(fields(_bytes(scalar(fields(repeated(consts[0], 5)[0]), 5))))
    if int(rate.reshape(-1)[0]) != SAMPLE_RATE:
        raise ProtoError("the If does not test for 16 kHz")
    branch_if = next(n for n in nodes if scalar(n, 4) == b"If")
    for attr in repeated(branch_if, 5):
        a = fields(attr)
        if scalar(a, 1) == b"then_branch":
            return fields(_bytes(scalar(a, 6)))
    raise ProtoError("no then_branch")


def _constant(node_fields: list[tuple[int, int | bytes]]) -> np.ndarray:
    attr = fields(repeated(node_fields, 5)[0])
    try:
        return tensor_array(fields(_bytes(scalar(attr, 5))))
    except ProtoError:
        return np.zeros(0, dtype=np.float32)  # a constant that is not a raw tensor: not a weight


def load_silero(path: Path) -> SileroVad:
    """silero's session from its (checksummed) file and, when it reproduces that session exactly
    on a test signal, the blocked form; single-threaded runs (the caller parallelises)."""
    import onnxruntime

    opts = onnxruntime.SessionOptions()
    opts.inter_op_num_threads = 1
    opts.intra_op_num_threads = 1
    raw = path.read_bytes()

    def session(model: bytes) -> Any:
        return onnxruntime.InferenceSession(model, sess_options=opts, providers=["CPUExecutionProvider"])

    stream = SileroVad(session(raw))
    probe = _test_signal()
    want, got = (np.empty(int(math.ceil(len(probe) / CHUNK)), np.float32) for _ in range(2))
    stream.probabilities_into(probe, want)
    try:
        encoder, decoder = (session(m) for m in blocked_graphs(raw))
        blocked = SileroVad(stream.stream, encoder, decoder)
        blocked.probabilities_into(probe, got)
    except Exception:  # noqa: BLE001 - SileroGraphError, or onnxruntime's own untyped errors
        return stream
    return blocked if np.array_equal(want, got) else stream


def _test_signal() -> np.ndarray:
    """10 s of noise with bursts of a gliding tone: more than one block, so the check covers the
    state carried from block to block (any numeric difference shows in every probability)."""
    rng = np.random.default_rng(16)
    t = np.arange(SAMPLE_RATE * 10) / SAMPLE_RATE
    pitch = 140 + 40 * np.sin(2 * np.pi * 3 * t)
    voiced = 0.3 * np.sin(2 * np.pi * pitch * t) * (np.sin(2 * np.pi * 0.5 * t) > 0)
    return (voiced + rng.normal(0, 0.02, len(t))).astype(np.float32)
