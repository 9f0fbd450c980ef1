"""Optional machine-translation engines that draft tracks; people translate, engines only help.

- `apertium`: Debian's rule-based translator, run as `apertium -u eng-spa` (argv, stdin text),
  when the program and a language pair are installed.
- `argos`: Argos Translate models the user brings as `.argosmodel` files, installed into the
  workspace with `install_argos_model`; needs the optional `argostranslate` package (not a
  dependency: it pulls spaCy and stanza, and would download models on its own).
- `libretranslate`: a self-hosted LibreTranslate server at a URL the user gives.

Nothing here touches the network or a model at import time; `available_engines` only checks
what is installed or configured.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Protocol, runtime_checkable

from pipeline.translation.errors import EngineError
from pipeline.translation.limits import base_language

# Apertium names languages with ISO 639-3 codes (hbs: Serbo-Croatian covers bs, hr, sr).
_ISO3 = {
    "eng": "en", "spa": "es", "cat": "ca", "fra": "fr", "por": "pt", "ita": "it", "deu": "de",
    "nld": "nl", "ara": "ar", "rus": "ru", "tur": "tr", "swe": "sv", "dan": "da", "nob": "nb",
    "nno": "nn", "ron": "ro", "glg": "gl", "eus": "eu", "oci": "oc", "kaz": "kk", "tat": "tt",
    "ukr": "uk", "bel": "be", "pol": "pl", "ces": "cs", "slk": "sk", "mlt": "mt", "urd": "ur",
    "hin": "hi", "sqi": "sq", "mkd": "mk", "bul": "bg", "ind": "id", "msa": "ms", "uzb": "uz",
    "kir": "ky", "som": "so",
}  # fmt: skip
_HBS = ("bs", "hr", "sr", "sh")
MAX_ARGOS_BYTES = 2_000_000_000  # a large Argos model is ~100-300 MB; refuse zip bombs


@runtime_checkable
class Engine(Protocol):
    """A machine translator. Languages are BCP 47 tags; texts are single sentences or cues."""

    name: str

    def pairs(self) -> tuple[tuple[str, str], ...]:
        """Installed (source, target) base language pairs."""
        ...

    def translate(self, texts: Sequence[str], source: str, target: str) -> tuple[str, ...]:
        """One translation per text, in order; EngineError when it cannot."""
        ...


def supports(engine: Engine, source: str, target: str) -> bool:
    """Whether `engine` has the pair; False when it cannot say (e.g. a server that is down)."""
    try:
        return (base_language(source), base_language(target)) in set(engine.pairs())
    except EngineError:
        return False


def pick_engine(engines: Sequence[Engine], source: str, target: str) -> Engine | None:
    """The first engine that has the pair, or None (the workflow is complete without one)."""
    return next((e for e in engines if supports(e, source, target)), None)


# ---------------------------------------------------------------------------------------------
# Apertium


class ApertiumEngine:
    """Apertium through its command line; `executable` is found on PATH when not given."""

    name = "apertium"

    def __init__(self, executable: str | None = None, timeout: float = 300.0) -> None:
        found = executable or shutil.which("apertium")
        if not found:
            raise EngineError("apertium is not installed (Debian: apt-get install apertium apertium-eng-spa)")
        self.executable = found
        self.timeout = timeout
        self._modes: tuple[str, ...] | None = None

    def _run(self, args: list[str], text: str = "") -> str:
        try:
            done = subprocess.run(
                [self.executable, *args], input=text, capture_output=True, text=True,
                timeout=self.timeout, check=False,
            )  # fmt: skip
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise EngineError(f"apertium failed: {exc}") from exc
        if done.returncode != 0:
            tail = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
            raise EngineError(f"apertium {' '.join(args)} failed: {tail}")
        return done.stdout

    def modes(self) -> tuple[str, ...]:
        """Installed translation modes, e.g. ("eng-spa", "spa-eng")."""
        if self._modes is None:
            self._modes = tuple(line.strip() for line in self._run(["-l"]).splitlines() if line.strip())
        return self._modes

    @staticmethod
    def _codes(mode: str) -> tuple[str, str] | None:
        parts = mode.split("-")
        if len(parts) != 2:
            return None
        a, b = (p.split("_")[0] for p in parts)
        if "_" in parts[1] and len(parts[1].split("_")[1]) > 2:
            return None  # variants such as eng-spa_anmor are debugging modes
        return (_ISO3.get(a, a), _ISO3.get(b, b))

    def pairs(self) -> tuple[tuple[str, str], ...]:
        out = []
        for mode in self.modes():
            codes = self._codes(mode)
            if codes is None:
                continue
            for a in _HBS if codes[0] == "hbs" else (codes[0],):
                for b in _HBS if codes[1] == "hbs" else (codes[1],):
                    out.append((a, b))
        return tuple(dict.fromkeys(out))

    def mode_for(self, source: str, target: str) -> str:
        src, tgt = base_language(source), base_language(target)
        for mode in self.modes():
            codes = self._codes(mode)
            if codes is None or "_" in mode:
                continue
            a = _HBS if codes[0] == "hbs" else (codes[0],)
            b = _HBS if codes[1] == "hbs" else (codes[1],)
            if src in a and tgt in b:
                return mode
        raise EngineError(
            f"apertium has no {src}->{tgt} pair installed (installed: {', '.join(self.modes())})"
        )

    def translate(self, texts: Sequence[str], source: str, target: str) -> tuple[str, ...]:
        if not texts:
            return ()
        mode = self.mode_for(source, target)
        flat = [" ".join(t.split()) for t in texts]
        # One process for all texts, one per line (the txt format keeps line breaks); if the
        # count comes back different, fall back to one process per text.
        out = self._run(["-u", mode], "\n".join(flat) + "\n").rstrip("\n").split("\n")
        if len(out) != len(flat):
            out = [self._run(["-u", mode], t + "\n").strip() for t in flat]
        return tuple(" ".join(line.split()) for line in out)


# ---------------------------------------------------------------------------------------------
# Argos


def _argos_dir(workspace: str | Path) -> Path:
    return Path(workspace) / "mt" / "argos"


def install_argos_model(path: str | Path, workspace: str | Path) -> Path:
    """Unpack a user's `.argosmodel` file into the workspace; returns the model's directory.

    Refuses files that are not zip archives, hold paths outside their folder, lack
    `metadata.json` with `from_code`/`to_code`, or unpack to more than MAX_ARGOS_BYTES.
    """
    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        raise EngineError(f"{path}: no such model file (or it is empty)")
    if not zipfile.is_zipfile(path):
        raise EngineError(f"{path.name}: not an Argos model (must be a zip archive)")
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
        if sum(i.file_size for i in infos) > MAX_ARGOS_BYTES:
            raise EngineError(f"{path.name}: unpacks to more than {MAX_ARGOS_BYTES:,} bytes")
        tops = set()
        for info in infos:
            name = PurePosixPath(info.filename)
            if name.is_absolute() or ".." in name.parts or "\\" in info.filename:
                raise EngineError(f"{path.name}: unsafe path {info.filename!r} in archive")
            tops.add(name.parts[0])
        meta_name = next(
            (i.filename for i in infos if PurePosixPath(i.filename).parts[1:] == ("metadata.json",)), None
        )
        if len(tops) != 1 or meta_name is None:
            raise EngineError(f"{path.name}: not an Argos model (needs one folder with metadata.json)")
        try:
            meta = json.loads(archive.read(meta_name))
            src, tgt = str(meta["from_code"]), str(meta["to_code"])
        except (KeyError, ValueError, TypeError) as exc:
            raise EngineError(f"{path.name}: unreadable metadata.json ({exc})") from exc
        if not (src.isalpha() and tgt.isalpha()):
            raise EngineError(f"{path.name}: odd language codes {src!r} -> {tgt!r}")
        target = _argos_dir(workspace) / f"{src}_{tgt}"
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=".install-") as tmp:
            archive.extractall(tmp)
            unpacked = Path(tmp) / next(iter(tops))
            if target.exists():
                shutil.rmtree(target)
            unpacked.rename(target)
    return target


class ArgosEngine:
    """Argos Translate over the models installed in `workspace` (see `install_argos_model`)."""

    name = "argos"

    def __init__(self, workspace: str | Path) -> None:
        self.root = _argos_dir(workspace)
        self._translators: dict[tuple[str, str], object] = {}

    @staticmethod
    def importable() -> bool:
        return importlib.util.find_spec("argostranslate") is not None

    def models(self) -> dict[tuple[str, str], Path]:
        out = {}
        for meta in sorted(self.root.glob("*/metadata.json")):
            try:
                data = json.loads(meta.read_text(encoding="utf-8"))
                out[(base_language(data["from_code"]), base_language(data["to_code"]))] = meta.parent
            except (OSError, ValueError, KeyError, TypeError):
                continue
        return out

    def pairs(self) -> tuple[tuple[str, str], ...]:
        return tuple(self.models())

    def translate(self, texts: Sequence[str], source: str, target: str) -> tuple[str, ...]:
        pair = (base_language(source), base_language(target))
        model = self.models().get(pair)
        if model is None:
            raise EngineError(
                f"no Argos model for {pair[0]}->{pair[1]}: install one with `counterclips mt install`"
            )
        if pair not in self._translators:
            try:
                from argostranslate import package, translate
            except ImportError as exc:
                raise EngineError(
                    "Argos models need the argostranslate package (pip install argostranslate)"
                ) from exc
            pkg = package.Package(model)
            self._translators[pair] = translate.PackageTranslation(
                translate.Language(pair[0], pair[0]), translate.Language(pair[1], pair[1]), pkg
            )
        translator = self._translators[pair]
        try:
            return tuple(" ".join(translator.translate(t).split()) for t in texts)  # type: ignore[attr-defined]
        except Exception as exc:  # argostranslate raises plain Exceptions
            raise EngineError(f"argos failed: {exc}") from exc


# ---------------------------------------------------------------------------------------------
# LibreTranslate


# Testimony goes straight to the server the operator named, never through an environment proxy.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class LibreTranslateEngine:
    """A self-hosted LibreTranslate server (`POST {url}/translate`), with a timeout in seconds."""

    name = "libretranslate"
    max_response_bytes = 10_000_000

    def __init__(self, url: str, *, api_key: str = "", timeout: float = 30.0) -> None:
        parsed = urllib.parse.urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise EngineError(f"LibreTranslate URL must be http(s)://host[:port], not {url!r}")
        self.url = url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self._pairs: tuple[tuple[str, str], ...] | None = None

    def _call(self, path: str, payload: dict[str, object] | None = None) -> object:
        data = None if payload is None else json.dumps(payload).encode("utf-8")
        request = urllib.request.Request(
            self.url + path, data=data, method="GET" if data is None else "POST",
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )  # fmt: skip
        try:
            with _DIRECT.open(request, timeout=self.timeout) as response:
                body = response.read(self.max_response_bytes + 1)
        except urllib.error.HTTPError as exc:
            detail = ""
            try:
                detail = str(json.loads(exc.read(65536)).get("error", ""))
            except (ValueError, AttributeError, OSError):
                pass
            raise EngineError(
                f"LibreTranslate at {self.url} answered {exc.code}: {detail or exc.reason}"
            ) from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise EngineError(f"cannot reach LibreTranslate at {self.url}: {reason}") from None
        if len(body) > self.max_response_bytes:
            raise EngineError(f"LibreTranslate at {self.url} sent an oversized answer")
        try:
            return json.loads(body)
        except ValueError:
            raise EngineError(f"LibreTranslate at {self.url} did not answer JSON") from None

    def pairs(self) -> tuple[tuple[str, str], ...]:
        if self._pairs is None:
            langs = self._call("/languages")
            out = []
            if isinstance(langs, list):
                for lang in langs:
                    if isinstance(lang, dict):
                        for tgt in lang.get("targets", ()):
                            out.append((base_language(str(lang.get("code", ""))), base_language(str(tgt))))
            self._pairs = tuple(p for p in out if p[0] != p[1])
        return self._pairs

    def translate(self, texts: Sequence[str], source: str, target: str) -> tuple[str, ...]:
        if not texts:
            return ()
        payload: dict[str, object] = {
            "q": [" ".join(t.split()) for t in texts], "source": base_language(source),
            "target": base_language(target), "format": "text",
        }  # fmt: skip
        if self.api_key:
            payload["api_key"] = self.api_key
        answer = self._call("/translate", payload)
        got = answer.get("translatedText") if isinstance(answer, dict) else None
        if isinstance(got, str) and len(texts) == 1:
            got = [got]
        if not isinstance(got, list) or len(got) != len(texts) or not all(isinstance(t, str) for t in got):
            raise EngineError(f"LibreTranslate at {self.url} answered {len(texts)} texts with something else")
        return tuple(" ".join(t.split()) for t in got)


def available_engines(
    workspace: str | Path | None = None, libretranslate_url: str = ""
) -> tuple[Engine, ...]:
    """Engines usable here: apertium if installed, argos if models and the package are
    installed in `workspace`, LibreTranslate if a URL is configured (not probed here)."""
    out: list[Engine] = []
    if shutil.which("apertium"):
        out.append(ApertiumEngine())
    if workspace is not None and ArgosEngine.importable():
        argos = ArgosEngine(workspace)
        if argos.models():
            out.append(argos)
    if libretranslate_url:
        out.append(LibreTranslateEngine(libretranslate_url))
    return tuple(out)
