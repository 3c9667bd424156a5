"""`SearchConfig`: every option of a search, validated once, the same in Python, YAML and the CLI."""

from __future__ import annotations

import math
import re
from typing import Any, Literal, NamedTuple, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from jupyter_automl._errors import ConfigError, did_you_mean

__all__ = [
    "SearchConfig",
    "parse_duration",
    "parse_memory",
    "TASKS",
    "SPACES",
    "STRATEGIES",
    "METRICS",
    "MODEL_FAMILIES",
    "PRUNERS",
    "PROXIES",
    "EXECUTORS",
    "CHOICES",
]

# each choice list is written once, as the Literal type (what pydantic and type checkers read);
# the tuples for messages, the panel and "did you mean" are taken from it
Task = Literal["auto", "binary", "multiclass", "regression"]
SpaceName = Literal["tabular", "nas-cell", "nas-dag", "nas-chain", "nas-mlp"]
#: Below this time budget (seconds) the NAS defaults buy architectures rather than screening
#: and width (``benchmarks/nas_shapes.py``).
SHORT_BUDGET_S = 180.0
#: The longest study name accepted (it names files, URLs and sidebar rows).
MAX_NAME_LENGTH = 200
StrategyName = Literal["auto", "rules", "random", "tpe", "gp", "evolution", "darts"]
MetricName = Literal["auto", "accuracy", "balanced_accuracy", "f1_macro", "roc_auc", "log_loss", "r2", "rmse", "mae"]
ModelFamily = Literal["linear", "random_forest", "extra_trees", "hist_gradient_boosting", "knn", "svm", "lightgbm", "xgboost", "catboost"]
PrunerName = Literal["auto", "none", "median", "percentile", "hyperband"]
ProxyName = Literal["auto", "none", "synflow", "params"]
ExecutorName = Literal["process", "thread", "dask"]

TASKS: tuple[str, ...] = get_args(Task)
SPACES: tuple[str, ...] = get_args(SpaceName)
STRATEGIES: tuple[str, ...] = get_args(StrategyName)
METRICS: tuple[str, ...] = get_args(MetricName)
MODEL_FAMILIES: tuple[str, ...] = get_args(ModelFamily)
PRUNERS: tuple[str, ...] = get_args(PrunerName)
PROXIES: tuple[str, ...] = get_args(ProxyName)
EXECUTORS: tuple[str, ...] = get_args(ExecutorName)

CHOICES: dict[str, tuple[str, ...]] = {
    "task": TASKS,
    "space": SPACES,
    "strategy": STRATEGIES,
    "metric": METRICS,
    "models": MODEL_FAMILIES,
    "pruner": PRUNERS,
    "proxy": PROXIES,
    "executor": EXECUTORS,
}

#: The units a duration may name (the editor's schema uses the same list).
DURATION_UNITS = r"(days?|d|hours?|hr|h|minutes?|min|m|seconds?|sec|s)"  # longest first
_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*" + DURATION_UNITS, re.I)
_UNIT_SECONDS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}
#: The longest duration a search takes: past it a number is a slip (``1e9`` is 31.7 years).
MAX_DURATION_S = 30 * 86400.0


def auto_proxy(space: str, proxy: str | None, time_budget: float | None) -> str:
    """The zero-cost proxy that screens a search's candidates: ``proxy: auto`` is ``synflow`` on
    ``nas-cell`` unless the time budget is under ``SHORT_BUDGET_S`` (measured in
    ``benchmarks/nas.py`` and ``benchmarks/nas_shapes.py``), ``none`` elsewhere; a proxy the
    user named is that proxy."""
    if proxy and proxy != "auto":
        return proxy
    short = time_budget is not None and float(time_budget) < SHORT_BUDGET_S
    return "synflow" if space == "nas-cell" and not short else "none"


def parse_duration(value: Any) -> float | None:
    """Turn ``90``, ``"90s"``, ``"5m"``, ``"1h30m"`` into seconds; ``None`` stays ``None``.

    Examples
    --------
    >>> parse_duration("1m30s")
    90.0
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"expected seconds or a duration like '90s' or '5m', got {value!r}")
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().lower()
        if re.fullmatch(r"\d+(\.\d*)?", text):
            seconds = float(text)
        else:
            parts = _DURATION.findall(text)
            if not parts or _DURATION.sub("", text).strip():
                raise ValueError(f"expected a duration like '90s', '5m' or '1h30m', got {value!r}")
            seconds = sum(float(n) * _UNIT_SECONDS[u[0]] for n, u in parts)
    else:
        raise ValueError(f"expected seconds or a duration like '90s', got {type(value).__name__}")
    if math.isnan(seconds):
        raise ValueError(f"expected seconds or a duration like '90s', got {value!r}")
    if seconds <= 0:
        raise ValueError(f"must be positive, got {value!r}")
    if seconds > MAX_DURATION_S:
        if math.isinf(seconds):
            length = ""
        elif seconds >= 365.25 * 86400:
            length = f" ({seconds / (365.25 * 86400):.3g} years)"
        else:
            length = f" ({seconds / 86400:.3g} days)"
        raise ValueError(f"got {value!r}{length}, longer than a search may run (at most 30 days, '30d'); "
                         "to stop on a number of trials alone give n_trials and time_budget: none")
    return seconds


_MEMORY = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*([kmgt]?)i?b?", re.I)


def parse_memory(value: Any) -> int | None:
    """Turn ``"4GB"``, ``"512MB"``, ``"1.5g"`` or a number of bytes into bytes (binary units).

    Examples
    --------
    >>> parse_memory("4GB")
    4294967296
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"expected a size like '4GB' or '512MB', got {value!r}")
    if isinstance(value, (int, float)):
        size = float(value)
    elif isinstance(value, str):
        match = _MEMORY.fullmatch(value.strip())
        if match is None:
            raise ValueError(f"expected a size like '4GB' or '512MB', got {value!r}")
        size = float(match.group(1)) * 1024 ** " kmgt".index((match.group(2) or " ").lower())
    else:
        raise ValueError(f"expected a size like '4GB', got {type(value).__name__}")
    if size < 1 << 20:
        raise ValueError(f"must be at least 1MB, got {value!r}")
    return int(size)


class SearchConfig(BaseModel):
    """Every option of a search. Frozen once validated.

    The same keywords are accepted by :func:`jupyter_automl.search`, the body of a ``%%automl``
    cell and ``jupyter-automl run CONFIG.yaml``. Unknown keys raise :class:`ConfigError` with a
    "did you mean" hint; all problems are reported together.

    Examples
    --------
    >>> cfg = SearchConfig.from_yaml("data: sklearn:iris\\nstrategy: random\\ntime_budget: 30s")
    >>> cfg.time_budget
    30.0
    """

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    # what to learn from
    data: str | None = Field(
        None,
        description="A notebook variable name, a CSV/Parquet path or a bundled dataset "
        "'sklearn:NAME'. In Python, pass the DataFrame or arrays to search() instead.",
    )
    target: str | int | None = Field(None, description="Target column (defaults to the bundled target).")
    task: Task = "auto"
    column_types: dict[str, str] | None = Field(
        None, description="How to read columns the search would read otherwise, e.g. {when: date, "
        "notes: text, zip: categorical}; date:FORMAT gives a strptime format (date:%d/%m/%Y).")
    # what to search
    space: SpaceName = "tabular"
    strategy: StrategyName = Field(
        "auto", description="auto: evolution seeded by the zero-cost screening on nas-cell (with "
        "proxy screening on), random on nas-cell without it (under 3 minutes), tpe everywhere else "
        "(chosen by benchmarks/nas.py and benchmarks/nas_shapes.py).")
    metric: MetricName = "auto"
    models: list[ModelFamily] | None = Field(None, description="Model families to search (default: all that apply).")
    ensemble: bool = Field(True, description="Greedy ensemble of the best trials, kept if it scores better "
                           "and its fit fits in the time budget.")
    holdout: float | None = Field(
        0.2, description="Fraction of rows kept out of the search (stratified) to score the best model on "
        "data it never saw, before it is refit on all rows; 'none' to search on every row."
    )
    # how long
    time_budget: float | None = Field(
        None, description="Seconds for the whole run including the final refit; '90s', '5m' work. "
        "Defaults to 60 s unless n_trials is given."
    )
    n_trials: int | None = Field(None, ge=1, description="Trials in the study (a resumed study counts earlier ones).")
    cv: int = Field(5, ge=2, le=20, description="Cross-validation folds (auto evaluation uses 3 from 5,000 rows).")
    evaluation: Literal["auto", "cv", "holdout"] = Field(
        "auto", description="How a tabular trial is scored: auto picks k-fold CV on small tables, "
        "3 folds from 5,000 rows and a 20 % holdout with 1/81 … 1/3, all-rows rungs from 20,000 rows."
    )
    seed: int = Field(0, ge=0)
    n_jobs: int = Field(1, description="Parallel trials; -1 uses every core.")
    # where trials run
    executor: ExecutorName = Field(
        "process", description="process: worker processes beside this one (a crash, hang or "
        "out-of-memory fails that trial only); thread: in this process; dask: a dask.distributed cluster."
    )
    trial_memory: int | None = Field(
        None, description="Memory a trial may allocate in its worker, e.g. '4GB' (executor process)."
    )
    dask_scheduler: str | None = Field(
        None, description="Address of a Dask scheduler, e.g. tcp://host:8786 (default: a local cluster)."
    )
    pruner: PrunerName = "auto"
    strategy_options: dict[str, Any] = Field(
        default_factory=dict, description="Sampler options, e.g. {population_size: 20} for evolution."
    )
    # where it is kept
    storage: str | None = Field(
        None, description="None: SQLite file .jupyter_automl/studies.db; 'memory'; or an Optuna storage URL."
    )
    name: str | None = Field(None, description="Study name (generated when omitted).")
    resume: bool = Field(False, description="Continue the stored study of the same name.")
    display: Literal["auto"] | bool = Field(
        "auto", description="auto: live view in a notebook, a progress bar in a terminal, nothing in a pipe; "
        "true: always a view; false: none."
    )
    # neural architecture search
    device: str = Field("auto", description="auto, cpu, cuda, cuda:N or mps.")
    epochs: int | list[int] = 10
    batch_size: int | list[int] = 128
    lr: float | list[float] = 0.01
    optimizer: str | list[str] = "adamw"
    weight_decay: float | list[float] = 0.0005
    proxy: ProxyName = Field(
        "auto", description="Zero-cost screening before NAS trials; auto: synflow for nas-cell, "
        "none elsewhere (chosen by benchmarks/nas.py).")
    augment: Literal["auto", "none"] | list[str] = Field(
        "auto", description="Image augmentation in training only: auto (a random crop after 4-px padding, "
        "scaled to the image), none, or a list of crop and flip (flip only where a mirrored image is the same class).")
    objectives: list[str] | None = None
    space_options: dict[str, Any] = Field(default_factory=dict, description="Options of the chosen space.")

    @field_validator("time_budget", mode="before")
    @classmethod
    def _parse_time_budget(cls, value: Any) -> float | None:
        return parse_duration(value)

    @field_validator("holdout", mode="before")
    @classmethod
    def _parse_holdout(cls, value: Any) -> float | None:
        if value is None or (isinstance(value, str) and value.strip().lower() in ("none", "no", "off", "false")):
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.05 <= float(value) <= 0.5:
            raise ValueError(f"expected a fraction of the rows between 0.05 and 0.5 (e.g. 0.2) or 'none', got {value!r}")
        return float(value)

    @field_validator("trial_memory", mode="before")
    @classmethod
    def _parse_trial_memory(cls, value: Any) -> int | None:
        return parse_memory(value)

    @field_validator("dask_scheduler")
    @classmethod
    def _check_dask_scheduler(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"(tcp|tls|ucx|inproc)://\S+|[\w.-]+:\d+", value):
            raise ValueError(f"expected a scheduler address like tcp://host:8786, got {value!r}")
        return value

    @field_validator("n_jobs")
    @classmethod
    def _check_n_jobs(cls, value: int) -> int:
        if value == 0 or value < -1:
            raise ValueError(f"must be a positive number of parallel trials or -1 (all cores), got {value}")
        return value

    @field_validator("device")
    @classmethod
    def _check_device(cls, value: str) -> str:
        if not re.fullmatch(r"auto|cpu|mps|cuda(:\d+)?", value):
            raise ValueError(f"expected auto, cpu, cuda, cuda:N or mps, got {value!r}")
        return value

    @field_validator("augment", mode="before")
    @classmethod
    def _check_augment(cls, value: Any) -> Any:
        accepted = ("crop", "flip")
        if isinstance(value, str) and value not in ("auto", "none"):
            value = [value]  # one augmentation named alone
        if isinstance(value, (list, tuple)):
            unknown = [v for v in value if v not in accepted]
            if unknown:
                hint = did_you_mean(str(unknown[0]), accepted)
                raise ValueError(f"unknown augmentation {unknown}{hint}; accepted: auto, none or a list of "
                                 f"{', '.join(accepted)}")
            return list(dict.fromkeys(value))
        if value is None or value is False:
            return "none"
        return value

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be empty")
        if value is not None and len(value) > MAX_NAME_LENGTH:
            raise ValueError(f"got a name of {len(value)} characters ({value[:20]!r}…); give one of at most "
                             f"{MAX_NAME_LENGTH} characters")
        if value is not None and any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            bad = next(ch for ch in value if ord(ch) < 32 or ord(ch) == 127)
            raise ValueError(f"got {value[:40]!r}, which holds the control character {bad!r}; use letters, "
                             "digits, spaces and punctuation only")
        return value

    @model_validator(mode="after")
    def _defaults_and_combinations(self) -> SearchConfig:
        if self.time_budget is None and self.n_trials is None:
            object.__setattr__(self, "time_budget", 60.0)
        if self.dask_scheduler is not None and self.executor != "dask":
            raise ValueError(f"option 'dask_scheduler' needs executor: dask (executor is {self.executor!r})")
        if self.trial_memory is not None and self.executor != "process":
            raise ValueError(f"option 'trial_memory' needs executor: process (executor is {self.executor!r})")
        if self.strategy == "auto":  # resolved here, so the stored config names the strategy
            object.__setattr__(self, "strategy", self.auto_strategy())
        if self.strategy == "evolution" and len(self.objectives or []) > 1:
            raise ValueError("strategy 'evolution' optimises one objective; with objectives "
                             f"{self.objectives} use strategy: tpe (or random)")
        if self.strategy == "darts" and not self.space.startswith("nas-"):
            raise ValueError("strategy 'darts' needs a NAS space (space: nas-cell)")
        return self

    # ----------------------------------------------------------------- constructors
    def __init__(self, **options: Any) -> None:
        places: dict[str, _Place] = options.pop("_yaml_places", None) or {}
        found: list[dict[str, Any]] = options.pop("_yaml_problems", None) or []
        problems = list(found)
        known = set(type(self).model_fields)
        for key in options:
            if key not in known:
                place = places.get(key)
                problems.append(_problem(
                    f"unknown option '{key}'{_where(place)}{did_you_mean(key, known)}", key, place, "key"))
        try:
            super().__init__(**{k: v for k, v in options.items() if k in known})
        except ValidationError as exc:
            problems.extend(_describe(exc, places))
        if problems:
            problems.sort(key=lambda p: (p["line"] is None, p["line"] or 0, p["start"] or 0))
            messages = [p["message"] for p in problems]
            raise ConfigError(_join(messages), messages, problems)

    @classmethod
    def from_dict(cls, options: dict[str, Any], *, lines: dict[str, int] | None = None) -> SearchConfig:
        """Validate ``options``; raise one :class:`ConfigError` listing every problem.

        ``lines`` maps top-level keys to their line in a YAML text, for the messages.
        """
        if not isinstance(options, dict):
            raise ConfigError(f"expected a mapping of options, got {type(options).__name__}")
        places = {k: _Place(line) for k, line in (lines or {}).items()}
        return cls(**{str(k): v for k, v in options.items()}, _yaml_places=places)

    @classmethod
    def from_yaml(cls, text: str, *, first_line: int = 1) -> SearchConfig:
        """Read a ``%%automl`` body or a config file; every problem is reported at once, by line.

        ``first_line`` is the line number of the text's first line where it is shown (2 for the
        body of a ``%%automl`` cell), so messages name the line the user sees. A key given twice
        is refused (not "the last one wins"), together with the other problems.
        """
        node, problems = _compose(text, first_line)
        if node is None and problems:
            raise ConfigError(problems[0]["message"], [problems[0]["message"]], problems)
        try:
            options = yaml.safe_load(text) if node is not None else None
        except yaml.YAMLError as exc:  # e.g. a tag such as !!python/object that safe loading refuses
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + first_line}: " if mark is not None else ""
            message = f"malformed YAML, {where}{getattr(exc, 'problem', None) or exc}; write plain values"
            raise ConfigError(message, [message], [{
                "message": message, "key": None, "line": mark.line + first_line if mark else None,
                "start": mark.index if mark else None, "end": mark.index + 1 if mark else None}]) from None
        if options is None:
            options = {}
        if not isinstance(options, dict):
            raise ConfigError(f"expected 'option: value' lines, got a YAML {type(options).__name__}")
        places: dict[str, _Place] = {}
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                places[str(key_node.value)] = _Place(
                    key_node.start_mark.line + first_line,
                    (key_node.start_mark.index, key_node.end_mark.index),
                    (value_node.start_mark.index, value_node.end_mark.index),
                )
        return cls(**{str(k): v for k, v in options.items()}, _yaml_places=places, _yaml_problems=problems)

    # ------------------------------------------------------------------- renderings
    def auto_strategy(self) -> str:
        """What ``strategy: auto`` is for this space and proxy: on ``nas-cell`` with one
        objective, ``evolution`` (population 10, tournament 3: the screening's 10 best are the
        first population) when zero-cost screening is on, else ``random`` (``proxy: auto``
        screens nothing under a budget of ``SHORT_BUDGET_S``); ``tpe`` everywhere else (it also
        handles a Pareto front). Measured in ``benchmarks/``: on ``nas_shapes.py --task hard`` at
        60 s, TPE over successive halving keeps sampling cells that lead after one epoch (pools,
        few convolutions) and ends 23 points below random search; level on the easy task and on
        the tabulated benchmark."""
        if self.space != "nas-cell" or len(self.objectives or []) > 1:
            return "tpe"
        screened = auto_proxy(self.space, self.proxy, self.time_budget) != "none"
        return "evolution" if screened else "random"

    def to_dict(self, *, only_changed: bool = False) -> dict[str, Any]:
        """Plain JSON-able options; ``only_changed`` leaves out the defaults."""
        data = self.model_dump(mode="json")
        if only_changed:
            defaults = SearchConfig.model_construct().model_dump(mode="json")
            defaults["time_budget"] = None
            data = {k: v for k, v in data.items() if defaults.get(k, object()) != v}
            if data.get("strategy") == self.auto_strategy():
                data.pop("strategy")  # what strategy: auto resolves to
            if self.n_trials is None and self.time_budget == 60.0:
                data.pop("time_budget", None)
        return data

    def to_yaml(self) -> str:
        """The YAML body (changed options only) that reproduces this config."""
        data = self.to_dict(only_changed=True)
        if "time_budget" in data and data["time_budget"] is not None:
            data["time_budget"] = _format_seconds(data["time_budget"])
        # one block-style line per option (a cell body), nested lists and maps inline
        return "".join(
            yaml.safe_dump({key: value}, sort_keys=False, allow_unicode=True,
                           default_flow_style=None if isinstance(value, (list, dict)) else False)
            for key, value in data.items()
        )

    def replace(self, **changes: Any) -> SearchConfig:
        """A copy with ``changes`` applied and validated."""
        merged = self.to_dict()
        if "time_budget" not in changes and "n_trials" in changes and self.n_trials is None:
            merged["time_budget"] = None
        merged.update(changes)
        return SearchConfig.from_dict(merged)

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        """JSON Schema of the options (used by the lab extension for completion)."""
        schema = cls.model_json_schema()
        schema["title"] = "jupyter-automl search options"
        return schema

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self.to_dict(only_changed=True).items())
        return f"SearchConfig({inner})"


class _Place(NamedTuple):
    """Where a top-level option is in a YAML text: its line and the character spans of key and value."""

    line: int | None
    key: tuple[int, int] | None = None
    value: tuple[int, int] | None = None


def _where(place: _Place | None) -> str:
    return f" (line {place.line})" if place is not None and place.line is not None else ""


def _problem(message: str, key: str | None, place: _Place | None, part: str) -> dict[str, Any]:
    """One problem with its place (see :class:`ConfigError`'s ``details``)."""
    span = None
    if place is not None:
        span = place.key if part == "key" else (place.value if place.value and place.value[1] > place.value[0]
                                                 else place.key)
    return {
        "message": message,
        "key": key,
        "line": place.line if place is not None else None,
        "start": span[0] if span else None,
        "end": span[1] if span else None,
    }


def _compose(text: str, first_line: int) -> tuple[yaml.Node | None, list[dict[str, Any]]]:
    """The YAML node tree and the problems found reading it: a syntax error (then no tree), or
    every key given twice in one mapping (PyYAML would keep the last one silently)."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        # an unclosed bracket is only noticed at the end: its context names the line that opened it
        mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
        where = f"line {mark.line + first_line}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        if getattr(exc, "context", None):
            problem = f"{exc.context}, {problem}"
        message = f"malformed YAML, {where}{problem}; write one 'option: value' per line"
        start = mark.index if mark is not None else None
        end = None
        if start is not None:
            end = text.find("\n", start)
            end = len(text) if end < 0 else end
            if end <= start:  # at the end of a line: mark that line
                start = text.rfind("\n", 0, max(start - 1, 0)) + 1 if start else 0
        return None, [{"message": message, "key": None, "line": mark.line + first_line if mark else None,
                       "start": start, "end": end}]
    problems: list[dict[str, Any]] = []
    # (node, the top-level option it is under: None for the top mapping itself)
    stack: list[tuple[yaml.Node, str | None]] = [(node, None)] if node is not None else []
    while stack:
        current, option = stack.pop()
        top = option is None
        if isinstance(current, yaml.MappingNode):
            first: dict[tuple[str, str], int] = {}
            for key_node, value_node in current.value:
                stack.append((value_node, str(key_node.value) if top else option))
                if not isinstance(key_node, yaml.ScalarNode):
                    continue
                ident = (key_node.tag, key_node.value)
                line = key_node.start_mark.line + first_line
                if ident in first:
                    what = f"option '{key_node.value}'" if top else f"key '{key_node.value}' in '{option}'"
                    problems.append({
                        "message": f"duplicate {what} (line {line}; first given on line "
                        f"{first[ident]}): keep one of them",
                        "key": key_node.value if top else None,
                        "line": line,
                        "start": key_node.start_mark.index,
                        "end": key_node.end_mark.index,
                    })
                else:
                    first[ident] = line
        elif isinstance(current, yaml.SequenceNode):
            stack.extend((child, option) for child in current.value)
    return node, problems


def _format_seconds(seconds: float) -> str:
    if seconds >= 60 and seconds % 60 == 0:
        return f"{int(seconds // 60)}m"
    return f"{seconds:g}s"


def _describe(exc: ValidationError, places: dict[str, _Place]) -> list[dict[str, Any]]:
    problems = []
    seen: set[str] = set()
    for err in exc.errors():
        loc = [str(p) for p in err["loc"] if not str(p).startswith(("function-", "literal["))]
        key = loc[0] if loc else ""
        if key in seen:  # a union reports each alternative; one line per key is enough
            continue
        seen.add(key)
        msg = err["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        given = err.get("input")
        if not key:
            # a rule across options ("'dask_scheduler' needs executor: dask"): placed at the first one it names
            named = next((w for w in re.findall(r"\w+", msg) if w in places), None)
            problems.append(_problem(msg, named, places.get(named) if named else None, "value"))
            continue
        where = _where(places.get(key))
        if err["type"] == "literal_error":
            text = f"option '{key}'{where}: {msg}, got {given!r}{did_you_mean(given, _choices(key))}"
        else:
            extra = "" if "got" in msg else f", got {given!r}"
            text = f"option '{key}'{where}: {msg}{extra}"
        problems.append(_problem(text, key, places.get(key), "value"))
    return problems


def _choices(key: str) -> tuple[str, ...]:
    return CHOICES.get(key, ())


def _join(problems: list[str]) -> str:
    if len(problems) == 1:
        return problems[0]
    return f"{len(problems)} problems in the options:\n" + "\n".join(f"- {p}" for p in problems)
