"""``%%automl`` and ``%automl``: searches configured in a cell, stored studies at hand.

``%load_ext jupyter_automl`` registers them::

    %%automl result --background
    data: penguins            # a notebook variable, a CSV/Parquet path or sklearn:NAME
    target: species
    time_budget: 30s

The body is YAML with the options of :func:`jupyter_automl.search`. A problem with the input
(an unknown option, a variable that does not exist, malformed YAML, a storage that cannot be
opened) shows as one ``UsageError`` line, with no traceback, and starts nothing.
"""

from __future__ import annotations

import shlex
import sys
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class
from IPython.display import display

from jupyter_automl._errors import AutoMLError, did_you_mean, one_line

if TYPE_CHECKING:
    from jupyter_automl._search import Search
    from jupyter_automl.result import SearchResult

__all__ = ["AutoMLMagics", "load_ipython_extension", "USAGE"]

DEFAULT_VARIABLE = "automl"

USAGE = """\
%%automl [VAR] [--background] [--no-display]   YAML body: the options of ja.search; result in VAR (default automl)
%automl list [--storage URL]                   stored studies with their best scores
%automl show NAME [--storage URL]              the static result of a stored study (no re-run)
%automl config NAME [--storage URL]            the %%automl text of a stored study
%automl resume NAME [VAR] [--background] [--no-display] [--time-budget T] [--n-trials N] [--storage URL]
%automl stop                                   stop the running background searches (best model still fitted)
%automl export NAME PATH [--storage URL]       write the best model of a study as a standalone script
%automl panel [DATA] [--as NAME]               the form (prints the equivalent %%automl text), bound to NAME (panel)"""

_COMMANDS = ("list", "show", "config", "resume", "stop", "export", "panel")


class _Args:
    """Parsed words of a magic line: positional words and ``--options``."""

    def __init__(
        self,
        line: str,
        *,
        flags: tuple[str, ...] = (),
        options: tuple[str, ...] = (),
        command: str = "%automl",
    ) -> None:
        try:
            words = shlex.split(line, comments=True)
        except ValueError as exc:
            raise UsageError(f"{command}: cannot read the line ({exc})") from None
        self.positional: list[str] = []
        self.flags: set[str] = set()
        self.options: dict[str, str] = {}
        known = [f"--{f}" for f in flags + options]
        i = 0
        while i < len(words):
            word = words[i]
            if word.startswith("--"):
                name, _, value = word[2:].partition("=")
                if name in flags and not value:
                    self.flags.add(name)
                elif name in options:
                    if not value:
                        if i + 1 >= len(words):
                            raise UsageError(f"{command}: --{name} needs a value")
                        i += 1
                        value = words[i]
                    self.options[name] = value
                else:
                    hint = did_you_mean(f"--{name}", known) if known else ""
                    accepted = f"; it accepts {', '.join(known)}" if known and not hint else ""
                    raise UsageError(f"{command}: unknown option --{name}{hint}{accepted}")
            else:
                self.positional.append(word)
            i += 1


@magics_class
class AutoMLMagics(Magics):
    """The ``%automl`` line magic and the ``%%automl`` cell magic."""

    @property
    def _user_ns(self) -> dict[str, Any]:
        """The notebook's variables."""
        assert self.shell is not None
        return self.shell.user_ns

    @line_cell_magic
    def automl(self, line: str, cell: str | None = None) -> Any:
        """Run a search from a YAML cell body, or manage stored studies (``%automl`` alone: help)."""
        if cell is None:
            return self._line(line)
        args = _Args(line, flags=("background", "no-display"), command="%%automl")
        variable = self._variable(args.positional, "%%automl")
        from jupyter_automl.config import SearchConfig

        try:
            config = SearchConfig.from_yaml(cell, first_line=2)  # line 1 is `%%automl`
        except AutoMLError as exc:
            raise UsageError(one_line(exc)) from None
        return self._start(
            config,
            variable,
            background="background" in args.flags,
            no_display="no-display" in args.flags,
        )

    # ------------------------------------------------------------------------- running
    def _variable(self, words: list[str], command: str) -> str:
        if not words:
            return DEFAULT_VARIABLE
        if len(words) > 1 or not words[0].isidentifier():
            raise UsageError(
                f"{command}: expected one variable name for the result, got {' '.join(words)!r}"
            )
        return words[0]

    def _start(self, config: Any, variable: str, *, background: bool, no_display: bool) -> None:
        """Check everything, bind the result to ``variable``, then run (or start) the search."""
        if background:
            return self._run(config, variable, background=True, no_display=no_display)
        from jupyter_automl.ui.foreground import steady_status

        with steady_status():  # the kernel reads Busy from the view's first widget to the result
            return self._run(config, variable, background=False, no_display=no_display)

    def _run(self, config: Any, variable: str, *, background: bool, no_display: bool) -> None:
        from jupyter_automl._entry import choose_observers, run_foreground
        from jupyter_automl._search import Search
        from jupyter_automl.ui import first_feedback, register_running

        if no_display:
            config = config.replace(display=False)
        try:
            with first_feedback(show=config.display is not False):  # "loading data…" at once
                search = Search(config, namespace=self._user_ns)
            search.observers.extend(choose_observers(config, search))
        except AutoMLError as exc:
            raise UsageError(one_line(exc)) from None
        register_running(search)
        self._user_ns[variable] = search.result
        if background:
            search.start()
            if not _views(search):
                print(
                    f"search {search.name!r} runs in the background: {variable}.wait() blocks until it ends, "
                    "%automl stop ends it"
                )
            return None
        try:
            run_foreground(search)
        except KeyboardInterrupt:  # only during the final refit: the trials are kept
            print(
                f"interrupted during the final fit: {variable} has the trials but no fitted model",
                file=sys.stderr,
            )
        finally:
            self._finish(search)
        return None

    def _finish(self, search: Search) -> None:
        from jupyter_automl.ui import unregister_running

        unregister_running(search)
        views = _views(search)
        for view in views:
            view.finish(search.result)  # a no-op when on_end already ran
        if not views:
            display(search.result)

    # ----------------------------------------------------------------------- line magic
    def _line(self, line: str) -> Any:
        words = line.strip().split(None, 1)
        if not words:
            print(USAGE)
            return None
        command, rest = words[0], words[1] if len(words) > 1 else ""
        if command not in _COMMANDS:
            raise UsageError(
                f"%automl: unknown command {command!r}{did_you_mean(command, _COMMANDS)}; "
                f"one of {', '.join(_COMMANDS)} (%automl alone prints the usage)"
            )
        return getattr(self, f"_cmd_{command}")(rest)

    def _cmd_list(self, rest: str) -> Any:
        import pandas as pd

        from jupyter_automl.storage import list_studies, storage_url

        args = _Args(rest, options=("storage",), command="%automl list")
        if args.positional:
            raise UsageError(
                f"%automl list: unexpected {' '.join(args.positional)!r} (use --storage URL)"
            )
        storage = args.options.get("storage")
        try:
            rows = list_studies(storage)
        except AutoMLError as exc:
            raise UsageError(one_line(exc)) from None
        if not rows:
            print(f"no stored studies in {storage_url(storage)}")
            return None
        columns = [
            "name",
            "space",
            "strategy",
            "metric",
            "n_trials",
            "best_score",
            "state",
            "started",
        ]
        frame = pd.DataFrame(rows)[columns].sort_values(
            "started", ascending=False, na_position="last"
        )
        return _readable_listing(frame.reset_index(drop=True))

    def _load_study(self, name: str, storage: str | None, command: str) -> Any:
        import optuna

        from jupyter_automl.storage import list_studies, resolve_storage, storage_url

        try:
            names = [row["name"] for row in list_studies(storage)]
            if name not in names:
                where = storage_url(storage)
                hint = did_you_mean(name, names)
                more = "" if hint else ("; %automl list shows them" if names else "")
                raise UsageError(f"{command}: no study {name!r} in {where}{hint}{more}")
            return optuna.load_study(study_name=name, storage=resolve_storage(storage))
        except AutoMLError as exc:
            raise UsageError(one_line(exc)) from None

    def _stored_config(self, study: Any, command: str) -> Any:
        from jupyter_automl.config import SearchConfig
        from jupyter_automl.storage import ATTR

        stored = study.user_attrs.get(f"{ATTR}:config")
        if not stored:
            raise UsageError(
                f"{command}: study {study.study_name!r} was not made by jupyter-automl (no stored config)"
            )
        try:
            return SearchConfig.from_dict(stored)
        except AutoMLError as exc:
            raise UsageError(
                f"{command}: the stored config of {study.study_name!r} is not readable: {one_line(exc)}"
            ) from None

    def _name_and_storage(
        self, rest: str, command: str, **kw: Any
    ) -> tuple[_Args, str, str | None]:
        options = ("storage",) + kw.pop("options", ())
        args = _Args(rest, options=options, command=command, **kw)
        if not args.positional:
            raise UsageError(f"{command}: which study? give its NAME (%automl list shows them)")
        return args, args.positional[0], args.options.get("storage")

    def _cmd_show(self, rest: str) -> None:
        from jupyter_automl.result import SearchResult
        from jupyter_automl.storage import storage_url

        args, name, storage = self._name_and_storage(rest, "%automl show")
        study = self._load_study(name, storage, "%automl show")
        config = self._stored_config(study, "%automl show")
        display(SearchResult(study, config, storage_url=storage_url(storage)))

    def _cmd_config(self, rest: str) -> None:
        args, name, storage = self._name_and_storage(rest, "%automl config")
        study = self._load_study(name, storage, "%automl config")
        config = self._stored_config(study, "%automl config")
        from jupyter_automl.report import config_cell_text
        from jupyter_automl.ui import cell_bundle

        display(cell_bundle("%%automl\n" + config_cell_text(config.to_dict())), raw=True)

    def _cmd_resume(self, rest: str) -> None:
        args, name, storage = self._name_and_storage(
            rest,
            "%automl resume",
            flags=("background", "no-display"),
            options=("time-budget", "n-trials"),
        )
        variable = self._variable(args.positional[1:], "%automl resume")
        study = self._load_study(name, storage, "%automl resume")
        config = self._stored_config(study, "%automl resume")
        if config.data is None:
            raise UsageError(
                f"%automl resume: study {name!r} was searched on data passed from Python; resume it with "
                f"ja.search(data, name={name!r}, resume=True)"
            )
        changes: dict[str, Any] = {"name": name, "resume": True, "storage": storage}
        if "time-budget" in args.options:
            changes["time_budget"] = args.options["time-budget"]
        if "n-trials" in args.options:
            changes["n_trials"] = args.options["n-trials"]
        try:
            config = config.replace(**changes)
        except AutoMLError as exc:
            raise UsageError(one_line(exc)) from None
        self._start(
            config,
            variable,
            background="background" in args.flags,
            no_display="no-display" in args.flags,
        )

    def _cmd_stop(self, rest: str) -> None:
        from jupyter_automl.ui import running_searches

        if rest.strip():
            raise UsageError(f"%automl stop takes no arguments, got {rest.strip()!r}")
        searches = running_searches()
        if not searches:
            print("no search is running")
            return
        for search in searches:
            search.stop_event.set()
            print(
                f"stopping {search.name!r}: it ends after the running trial, with the best model fitted"
            )

    def _cmd_export(self, rest: str) -> None:
        from jupyter_automl._search import Search

        args, name, storage = self._name_and_storage(rest, "%automl export")
        if len(args.positional) != 2:
            raise UsageError(
                "%automl export: expected NAME PATH, e.g. %automl export my-study model.py"
            )
        path = args.positional[1]
        result = _known_result(self._user_ns, name)
        if result is None:
            study = self._load_study(name, storage, "%automl export")
            config = self._stored_config(study, "%automl export")
            if config.data is None:
                raise UsageError(
                    f"%automl export: study {name!r} was searched on data passed from Python; "
                    "call result.export(PATH) on its result instead"
                )
            try:
                search = Search(
                    config.replace(name=name, resume=True, storage=storage, display=False),
                    namespace=self._user_ns,
                )
            except AutoMLError as exc:
                raise UsageError(one_line(exc)) from None
            result = search.result
        try:
            written = result.export(path)
        except AutoMLError as exc:
            raise UsageError(f"%automl export: {one_line(exc)}") from None
        print(
            f"wrote {written}: python {written} trains the best model of {name!r} without jupyter-automl"
        )

    def _cmd_panel(self, rest: str) -> Any:
        from jupyter_automl.ui.panel import Panel

        args = _Args(rest, options=("as",), command="%automl panel")
        if len(args.positional) > 1:
            raise UsageError(
                "%automl panel: expected at most one data name, e.g. %automl panel penguins"
            )
        data = args.positional[0] if args.positional else None
        if data is not None and data not in self._user_ns and ":" not in data and "." not in data:
            names = [k for k in self._user_ns if not k.startswith("_")]
            raise UsageError(
                f"%automl panel: {data!r} is not a variable of the notebook{did_you_mean(data, names)}"
            )
        variable = args.options.get("as")
        if variable is not None and not variable.isidentifier():
            raise UsageError(f"%automl panel: --as {variable!r} is not a variable name, e.g. --as form")
        if variable is None:  # `panel`, unless the notebook uses that name for something else (import panel)
            free = [n for n in ("panel", "automl_panel") if not (n in self._user_ns and not isinstance(self._user_ns[n], Panel))]
            variable = free[0] if free else None
        panel = Panel(data, namespace=self._user_ns)
        if variable is not None:
            self._user_ns[variable] = panel  # the form's result is then in NAME.result
            panel.variable = variable
        display(panel)
        return None


def _readable_listing(frame: Any) -> Any:
    """Scores as the leaderboards show them; start times to the minute, in UTC, in one line."""
    import pandas as pd

    from jupyter_automl.report import format_score

    frame = frame.copy()
    frame["best_score"] = [format_score(v) for v in frame["best_score"]]
    started = pd.to_datetime(frame["started"], utc=True, errors="coerce")
    frame["started"] = [
        "" if pd.isna(t) else t.strftime("%Y-%m-%d\u00a0%H:%M") for t in started
    ]  # a no-break space: the date and time never wrap apart
    return frame


def _views(search: Search) -> list[Any]:
    from jupyter_automl.ui.live import LiveView

    return (
        [o for o in search.observers if isinstance(o, LiveView)]
        if "jupyter_automl.ui.live" in sys.modules
        else []
    )


def _known_result(namespace: dict[str, Any], name: str) -> SearchResult | None:
    """A finished result of study ``name`` held by a notebook variable (it has the data description)."""
    from jupyter_automl.result import SearchResult

    for value in list(namespace.values()):
        if (
            isinstance(value, SearchResult)
            and value.space is not None
            and value.done
            and getattr(value.study, "study_name", None) == name
        ):
            return value
    return None


def load_ipython_extension(ipython: Any) -> None:
    """Register the magics (``%load_ext jupyter_automl``).

    In a kernel this also imports Bokeh and prepares the BokehJS bundle now, so the first search
    cell does not spend its time budget on them. Nothing is displayed: each live view loads
    BokehJS in an output of its own that it empties when its search ends.
    """
    ipython.register_magics(AutoMLMagics)
    from jupyter_automl.ui import in_kernel

    if in_kernel():
        try:
            from jupyter_automl.ui.live import bokehjs_bundle
        except ImportError:  # no live view without Bokeh; the magics still work
            return
        bokehjs_bundle()
