"""The search form: ``%automl panel`` or ``ja.Panel(df)``.

An ipywidgets form with the options of :func:`jupyter_automl.search`. Run starts the same
:class:`~jupyter_automl._search.Search` as a ``%%automl`` cell (in the background, so Stop and the
rest of the notebook stay usable) with the same live view; "Show as %%automl" prints the cell
that does the same, so the form and the magic never diverge.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from jupyter_automl._errors import AutoMLError
from jupyter_automl.config import METRICS, MODEL_FAMILIES, SPACES, STRATEGIES, TASKS, SearchConfig
from jupyter_automl.runner import Observer

if TYPE_CHECKING:
    from jupyter_automl._search import Search
    from jupyter_automl.result import SearchResult

__all__ = ["Panel"]

_BUNDLED_TARGET = "(bundled target)"
_PRUNERS = ("auto", "none", "median", "percentile", "hyperband")
_GIVEN_NAME = "panel_data"


def _frames(namespace: dict[str, Any]) -> list[str]:
    import pandas as pd

    return [
        k for k, v in namespace.items() if isinstance(v, pd.DataFrame) and not k.startswith("_")
    ]


class Panel:
    """A form that configures, runs and stops a search, and prints its ``%%automl`` cell.

    Parameters
    ----------
    data : DataFrame or str, optional
        The data to preselect: a DataFrame of the notebook, a variable name, a path or
        ``"sklearn:NAME"``. A DataFrame that no notebook variable holds is stored as
        ``panel_data`` in the namespace, so the printed ``%%automl`` text runs as it is.
    target : str, optional
        The target column to preselect.
    namespace : dict, optional
        Where variable names are looked up (default: the notebook's variables).
    **options
        Initial values of the other fields (any :class:`SearchConfig` option the form has).

    Attributes
    ----------
    search : Search or None
        The search the last Run started.
    result : SearchResult or None
        Its result (it fills in while the search runs; ``panel.result.wait()`` blocks).

    Examples
    --------
    >>> import jupyter_automl as ja
    >>> panel = ja.Panel("sklearn:iris", namespace={}, strategy="random", time_budget="10s")
    >>> print(panel.magic_text())
    %%automl
    data: sklearn:iris
    strategy: random
    time_budget: 10s
    """

    def __init__(
        self,
        data: Any = None,
        target: str | None = None,
        *,
        namespace: dict[str, Any] | None = None,
        **options: Any,
    ) -> None:
        if namespace is None:
            namespace = _user_namespace()
        self.namespace = namespace
        self.search: Search | None = None
        self.result: SearchResult | None = None
        self.variable: str | None = None  # the notebook variable that holds the panel (%automl panel --as)
        self._handle: Any = None
        self._card: Any = None  # the form's saved copy under it (what a reopened notebook shows)
        unknown = set(options) - set(SearchConfig.model_fields)
        if unknown:
            from jupyter_automl._errors import ConfigError, did_you_mean

            key = sorted(unknown)[0]
            raise ConfigError(
                f"Panel: unknown option '{key}'{did_you_mean(key, SearchConfig.model_fields)}"
            )
        self._build()
        self._set_data(data)
        if target is not None:
            self._set_target(str(target))
        self.set(**options)

    # ----------------------------------------------------------------------- the form
    def _build(self) -> None:
        from jupyter_automl.data import bundled_datasets

        style = {"description_width": "110px"}
        wide = widgets.Layout(width="340px")
        self.data = widgets.Dropdown(
            description="data",
            style=style,
            layout=wide,
            options=self._data_options([]),
            tooltip="a DataFrame of the notebook or a bundled dataset",
        )
        self._bundled = [f"sklearn:{name}" for name in bundled_datasets()]
        self.target = widgets.Dropdown(
            description="target", style=style, layout=wide, options=[_BUNDLED_TARGET]
        )
        self.task = widgets.Dropdown(
            description="task", options=list(TASKS), style=style, layout=wide
        )
        self.metric = widgets.Dropdown(
            description="metric", options=list(METRICS), style=style, layout=wide
        )
        self.space = widgets.Dropdown(
            description="space", options=list(SPACES), style=style, layout=wide
        )
        self.strategy = widgets.Dropdown(
            description="strategy", options=list(STRATEGIES), value="auto", style=style, layout=wide
        )
        self.time_budget = widgets.Text(
            description="time budget",
            placeholder="e.g. 30s, 5m (empty: none)",
            value="",
            style=style,
            layout=wide,
        )
        self.n_trials = widgets.Text(
            description="trials",
            placeholder="e.g. 50 (empty: no limit)",
            value="",
            style=style,
            layout=wide,
        )
        self.seed = widgets.BoundedIntText(
            description="seed", value=0, min=0, max=2**31 - 1, style=style, layout=wide
        )
        self.device = widgets.Dropdown(
            description="device", options=["auto", "cpu", "cuda", "mps"], style=style, layout=wide
        )
        # advanced
        self.cv = widgets.BoundedIntText(
            description="cv folds", value=5, min=2, max=20, style=style, layout=wide
        )
        self.n_jobs = widgets.IntText(
            description="parallel trials", value=1, style=style, layout=wide
        )
        self.executor = widgets.Dropdown(
            description="trials run in", options=["process", "thread", "dask"], style=style, layout=wide
        )
        self.ensemble = widgets.Checkbox(
            description="ensemble of the best", value=True, indent=False  # SearchConfig.ensemble
        )
        self.pruner = widgets.Dropdown(
            description="pruner", options=list(_PRUNERS), style=style, layout=wide
        )
        self.models = widgets.SelectMultiple(
            description="models",
            options=list(MODEL_FAMILIES),
            rows=5,
            style=style,
            layout=wide,
            tooltip="none selected: all that apply",
        )
        self.storage = widgets.Text(
            description="storage",
            placeholder="default: .jupyter_automl/studies.db",
            style=style,
            layout=wide,
        )
        self.name = widgets.Text(
            description="study name", placeholder="generated", style=style, layout=wide
        )
        self.data.observe(self._on_data, names="value")

        self.run_button = widgets.Button(description="Run", button_style="primary", icon="play")
        self.stop_button = widgets.Button(
            description="Stop", icon="stop", disabled=True, tooltip="no search is running"
        )
        self.show_button = widgets.Button(
            description="Show as %%automl", icon="code", layout=widgets.Layout(width="auto")
        )
        self.run_button.on_click(lambda _b: self.run())
        self.stop_button.on_click(lambda _b: self.stop())
        self.show_button.on_click(lambda _b: self.show_magic())
        self.message = widgets.HTML("")
        self.magic_output = widgets.Output()
        self.output = widgets.Output()
        advanced = widgets.Accordion(
            children=[
                widgets.VBox(
                    [
                        widgets.HBox([self.cv, self.n_jobs]),
                        widgets.HBox([self.executor, self.ensemble]),
                        self.pruner,
                        widgets.HBox([self.storage, self.name]),
                        self.models,
                    ]
                )
            ],
            selected_index=None,
        )
        advanced.set_title(0, "advanced")
        self.widget = _Form(
            [
                widgets.HTML("<b>jupyter-automl</b> search"),
                widgets.HBox([self.data, self.target]),
                widgets.HBox([self.task, self.metric]),
                widgets.HBox([self.space, self.strategy]),
                widgets.HBox([self.time_budget, self.n_trials]),
                widgets.HBox([self.seed, self.device]),
                advanced,
                widgets.HBox([self.run_button, self.stop_button, self.show_button]),
                self.message,
                self.magic_output,
                self.output,
            ]
        )
        self.widget.add_class("jupyter-automl-panel")
        for field in self._fields():
            field.observe(lambda _change: self._update_card(), names="value")

    def _data_options(self, extra: list[str]) -> list[tuple[str, str]]:
        frames = _frames(self.namespace)
        options = [(f"{name} (DataFrame)", name) for name in frames]
        options += [(name, name) for name in extra if name not in frames]
        options += [(name, name) for name in getattr(self, "_bundled", [])]
        return options

    def _set_data(self, data: Any) -> None:
        import pandas as pd

        name: str | None = None
        if isinstance(data, str):
            name = data
        elif data is not None:
            if not isinstance(data, pd.DataFrame):
                raise AutoMLError(
                    f"Panel: data must be a DataFrame, a variable name, a path or 'sklearn:NAME', "
                    f"got {type(data).__name__} (arrays: wrap them as pd.DataFrame(X).assign(target=y))"
                )
            name = next(
                (k for k, v in self.namespace.items() if v is data and not k.startswith("_")), None
            )
            if name is None:
                self.namespace[_GIVEN_NAME] = data
                name = _GIVEN_NAME
        extra = [name] if name is not None else []
        self.data.options = self._data_options(extra)
        if name is not None:
            self.data.value = name
        elif self.data.options:
            self.data.value = self.data.options[0][1]
        self._on_data({"new": self.data.value})

    def _on_data(self, change: dict[str, Any]) -> None:
        import pandas as pd

        name = change.get("new")
        frame = self.namespace.get(name) if isinstance(name, str) and name.isidentifier() else None
        if isinstance(frame, pd.DataFrame):
            columns = [str(c) for c in frame.columns]
            self.target.options = columns
            self.target.value = columns[-1] if columns else None
        else:
            self.target.options = [_BUNDLED_TARGET]
            self.target.value = _BUNDLED_TARGET

    def _set_target(self, target: str) -> None:
        if target not in self.target.options:
            self.target.options = list(self.target.options) + [target]
        self.target.value = target

    def set(self, **options: Any) -> Panel:
        """Fill fields from options (the keywords of :func:`jupyter_automl.search`); returns the panel."""
        for key, value in options.items():
            if key == "data":
                self._set_data(value)
            elif key == "target":
                self._set_target(str(value))
            elif key in ("time_budget", "n_trials", "storage", "name"):
                getattr(self, key).value = "" if value is None else str(value)
            elif key == "models":
                self.models.value = tuple(value or ())
            elif key in (
                "task",
                "metric",
                "space",
                "strategy",
                "device",
                "pruner",
                "seed",
                "cv",
                "n_jobs",
                "ensemble",
                "executor",
            ):
                getattr(self, key).value = value
            else:
                raise AutoMLError(
                    f"Panel: the form has no field for option {key!r}; use a %%automl cell for it"
                )
        return self

    # ------------------------------------------------------------------- form → config
    def options(self) -> dict[str, Any]:
        """The form's values as :class:`SearchConfig` options (empty fields left out)."""
        opts: dict[str, Any] = {"data": self.data.value}
        if self.target.value not in (None, _BUNDLED_TARGET):
            opts["target"] = self.target.value
        for key in ("task", "metric", "space", "strategy", "device", "pruner", "executor"):
            opts[key] = getattr(self, key).value
        opts["time_budget"] = self.time_budget.value.strip() or None
        trials = self.n_trials.value.strip()
        if trials:
            opts["n_trials"] = int(trials) if trials.lstrip("-").isdigit() else trials
        opts.update(
            seed=self.seed.value,
            cv=self.cv.value,
            n_jobs=self.n_jobs.value,
            ensemble=self.ensemble.value,
        )
        if self.models.value:
            opts["models"] = list(self.models.value)
        for key in ("storage", "name"):
            text = getattr(self, key).value.strip()
            if text:
                opts[key] = text
        return opts

    def config(self) -> SearchConfig:
        """The validated :class:`SearchConfig` of the form (raises ``ConfigError`` naming the field)."""
        return SearchConfig.from_dict(self.options())

    def magic_text(self) -> str:
        """The ``%%automl`` cell that runs the same search as the form."""
        return "%%automl\n" + self.config().to_yaml().rstrip("\n")

    # ---------------------------------------------------------------------- actions
    def show_magic(self) -> None:
        """Show the ``%%automl`` text under the form (JupyterLab adds "Insert as new cell")."""
        from jupyter_automl.ui import cell_bundle

        self.magic_output.outputs = ()  # set the trait: it works from a button click and is saved
        try:
            text = self.magic_text()
        except AutoMLError as exc:
            self._error(exc)
            return
        self.message.value = ""
        output = {"output_type": "display_data", "data": cell_bundle(text + "\n"), "metadata": {}}
        self.magic_output.outputs = (output,)

    def run(self) -> SearchResult | None:
        """Start the form's search in the background with the live view under the form."""
        import html

        from jupyter_automl._search import Search
        from jupyter_automl.ui import register_running, suppress_auto_view
        from jupyter_automl.ui.live import LiveView

        if self.result is not None and not self.result.done:
            self.message.value = (
                "<span style='color:#b36b00'>a search is running: stop it first</span>"
            )
            return None
        try:
            config = self.config()
            with suppress_auto_view():
                search = Search(config, namespace=self.namespace)
        except AutoMLError as exc:
            self._error(exc)
            return None
        self.message.value = f"running <b>{html.escape(search.name)}</b> in the background"
        self.output.outputs = ()
        view = LiveView(search, output=self.output, result_handle=self._handle)
        view.stop_button.layout.display = "none"  # one Stop: the form's own
        search.observers.append(view)
        search.observers.append(_PanelEnd(self))
        register_running(search)
        self.search = search
        self._update_card()
        self.run_button.disabled = True
        self._stop_enabled(True)
        self.result = search.start()
        return self.result

    def stop(self) -> None:
        """Stop the running search after its current trial (the best model is still fitted)."""
        if self.search is not None and not self.search.result.done:
            self.search.stop_event.set()
            self._stop_enabled(False)
            self.message.value = "stopping after the running trial…"

    def _ended(self, result: SearchResult) -> None:
        self.run_button.disabled = False
        self._stop_enabled(False)
        reason = result.stop_reason or "ended"
        where = f"<code>{self.variable}.result</code>" if self.variable else "the panel's <code>.result</code>"
        self.message.value = f"ended ({reason}): the result is in {where}"

    def _stop_enabled(self, enabled: bool) -> None:
        """A live Stop is red; an idle one is grey and says why it is off."""
        self.stop_button.disabled = not enabled
        self.stop_button.button_style = "danger" if enabled else ""
        self.stop_button.tooltip = (
            "stop the search after the running trial" if enabled else "no search is running"
        )

    def _error(self, exc: BaseException) -> None:
        import html

        from jupyter_automl._errors import one_line

        self.message.value = (
            f"<span style='color:#c62828'>{html.escape(one_line(exc), quote=False)}</span>"
        )

    # ------------------------------------------------------------------------ display
    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)
        # a widget's output is "model not found" in a notebook reopened without the kernel: the
        # card under it keeps the form as its %%automl text (the lab extension hides it while the
        # live form shows, and hides the widget's error box above it when the form is gone)
        self._card = display(self._card_bundle(), raw=True, display_id=True)
        self._handle = display({"text/plain": ""}, raw=True, display_id=True)

    def _fields(self) -> list[Any]:
        return [self.data, self.target, self.task, self.metric, self.space, self.strategy,
                self.time_budget, self.n_trials, self.seed, self.device, self.cv, self.n_jobs,
                self.executor, self.ensemble, self.pruner, self.models, self.storage, self.name]

    def _card_bundle(self) -> dict[str, Any]:
        """The form's static card: its ``%%automl`` text (or why the form is not valid yet)."""
        import html

        try:
            text = self.magic_text()
        except AutoMLError as exc:
            from jupyter_automl._errors import one_line

            text = f"(the form does not make a valid search yet: {one_line(exc)})"
        ran = f" Its last search: <code>{html.escape(self.search.name)}</code>." if self.search is not None else ""
        body = (
            "<div class='jupyter-automl-panel-card'>"
            "<div class='jupyter-automl-panel-card-title'><b>jupyter-automl</b> search form "
            f"(a saved copy: run this cell for the live form).{ran}</div>"
            f"<pre>{html.escape(text)}</pre></div>"
        )
        return {"text/html": body, "text/plain": text}

    def _update_card(self) -> None:
        if self._card is not None:
            self._card.update(self._card_bundle(), raw=True)

    def __repr__(self) -> str:
        try:
            return f"Panel({self.config()!r})"
        except AutoMLError:
            return "Panel(<invalid form>)"


class _Form(widgets.VBox):
    """The form's box. Its text (what a notebook opened without the widget shows in its place,
    above the form's saved card) is a name, not the widgets' repr."""

    def __repr__(self) -> str:
        return "jupyter-automl search form"


class _PanelEnd(Observer):
    """Re-enables the form when its search ends."""

    def __init__(self, panel: Panel) -> None:
        self.panel = panel

    def on_end(self, result: SearchResult) -> None:
        self.panel._ended(result)


def _user_namespace() -> dict[str, Any]:
    import sys

    if "IPython" in sys.modules:
        from IPython import get_ipython

        shell = get_ipython()
        if shell is not None:
            return shell.user_ns
    return {}
