"""``jupyter-automl``: run a search headless, list stored studies, or run the demo."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from jupyter_automl._errors import AutoMLError, ConfigError, DataError
from jupyter_automl.config import EXECUTORS
from jupyter_automl.progress import ProgressBar

__all__ = ["main", "ProgressBar", "EXIT_FAILED", "EXIT_USAGE", "EXIT_INTERRUPTED"]

EXIT_FAILED = 1  # a runtime failure: data, storage, no model
EXIT_USAGE = 2  # argparse's code for bad usage; also bad options
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a command ended by Ctrl-C


def _print_result(result: Any, rows: int = 10) -> None:
    from jupyter_automl.report import payload_text

    print(payload_text(result.payload(), rows=rows))
    print(f"stopped by: {result.stop_reason}; {result.elapsed_s:.1f} s; study {result.study.study_name!r} in {result.storage_url}")


def _parse_value(text: str) -> Any:
    import yaml

    return yaml.safe_load(text)


def _read_config(path: Path) -> str:
    """The text of a config file, or a one-line :class:`ConfigError` saying why it cannot be read."""
    if not path.is_file():
        raise ConfigError(f"no config file {str(path)!r}" + (" (it is a directory)" if path.is_dir() else ""))
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"config file {str(path)!r} is not UTF-8 text (byte {exc.start}): give a YAML file of 'option: value' lines"
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {str(path)!r}: {exc.strerror}") from None


def _is_relative_path(data: str) -> bool:
    """A file or folder path not anchored anywhere (not ``sklearn:NAME`` or another ``scheme:``)."""
    head, sep, _ = data.partition(":")
    if sep and head.isidentifier() and len(head) > 1:  # sklearn:iris, torchvision:..., not C:\\
        return False
    return not Path(data).expanduser().is_absolute()


def _beside(config: Path, data: str) -> str:
    """``data`` of a config file, read from the config's folder (the study stores this absolute path)."""
    folder = config.resolve().parent
    resolved = folder / Path(data).expanduser()
    if not resolved.exists():
        raise DataError(
            f"data file {data!r} does not exist in {str(folder)!r}: a path in a config file is relative "
            f"to the config's folder; fix the path or give it with --set data=PATH (relative to {str(Path.cwd())!r})"
        )
    return str(resolved)


def _exit_status(result: Any) -> int:
    """0, or 130 when Ctrl-C ended the search (its finished trials are stored, the cut one as stopped)."""
    if result.stop_reason == "interrupted":
        print("interrupted: the finished trials are stored; --resume continues the study", file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from jupyter_automl._search import Search
    from jupyter_automl.config import SearchConfig

    path = Path(args.config)
    config = SearchConfig.from_yaml(_read_config(path))
    if config.data is not None and _is_relative_path(config.data):  # beside the config, wherever it runs from
        config = config.replace(data=_beside(path, config.data))
    overrides: dict[str, Any] = {}
    for item in args.set or []:
        key, _, value = item.partition("=")
        overrides[key.strip()] = _parse_value(value)
    for key in ("storage", "name", "time_budget", "n_trials", "seed", "executor"):
        value = getattr(args, key)
        if value is not None:
            overrides[key] = value
    if args.resume:
        overrides["resume"] = True
    overrides.setdefault("display", False)
    if overrides:
        config = config.replace(**overrides)
    search = Search(config, observers=[] if args.quiet else [ProgressBar()])
    result = search.run()
    _print_result(result)
    if args.export:
        print(f"exported: {result.export(args.export)}")
    return _exit_status(result)


def _cmd_worker(args: argparse.Namespace) -> int:
    """Join a stored study: same config, same data source, trials shared through the storage."""
    import optuna

    from jupyter_automl._search import Search
    from jupyter_automl.config import SearchConfig
    from jupyter_automl.storage import ATTR, resolve_storage

    backend = resolve_storage(args.storage)
    try:
        stored = optuna.load_study(study_name=args.name, storage=backend).user_attrs.get(f"{ATTR}:config")
    except KeyError:
        raise ConfigError(f"no study {args.name!r} in {args.storage}; `jupyter-automl studies --storage URL` lists them") from None
    if not stored:
        raise ConfigError(f"study {args.name!r} was not created by jupyter-automl (no stored config)")
    changes: dict[str, Any] = {"storage": args.storage, "name": args.name, "resume": True, "display": False}
    if args.data:
        changes["data"] = args.data
    if not (changes.get("data") or stored.get("data")):
        raise ConfigError(
            f"study {args.name!r} was started from in-memory data: give workers a file they can read, "
            "--data PATH (CSV/Parquet) or sklearn:NAME"
        )
    for key in ("n_trials", "time_budget", "executor"):
        if getattr(args, key) is not None:
            changes[key] = getattr(args, key)
    config = SearchConfig.from_dict(dict(stored, **changes))
    result = Search(config, observers=[] if args.quiet else [ProgressBar()]).run()
    _print_result(result)
    return _exit_status(result)


def _cmd_studies(args: argparse.Namespace) -> int:
    from jupyter_automl.storage import list_studies, storage_url

    rows = list_studies(args.storage)
    if not rows:
        print(f"no studies in {storage_url(args.storage)}")
        return 0
    header = f"{'name':<48} {'space':<9} {'strategy':<9} {'metric':<17} {'trials':>6} {'best':>8}  state"
    print(header)
    for r in rows:
        best = "" if r["best_score"] is None else f"{r['best_score']:.4f}"
        trials = "?" if r["n_trials"] is None else str(r["n_trials"])  # a study not counted in time
        print(f"{r['name'][:48]:<48} {str(r['space']):<9} {str(r['strategy']):<9} {str(r['metric']):<17} "
              f"{trials:>6} {best:>8}  {r['state']}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    import jupyter_automl as ja

    print(f"jupyter-automl demo: {args.time_budget} of search on scikit-learn's breast cancer data\n")
    result = ja.search(data="sklearn:breast_cancer", time_budget=args.time_budget, storage=args.storage,
                       display=False, observers=[ProgressBar()])
    _print_result(result)
    path = result.export(args.export)
    print(f"\nstandalone training script: {path} (python {path})")
    return _exit_status(result)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``jupyter-automl`` command."""
    from jupyter_automl import __version__

    parser = argparse.ArgumentParser(
        prog="jupyter-automl",
        description="AutoML and NAS searches, headless.",
        epilog="exit status: 0 done, 1 the search or the storage failed, 2 bad usage or options, 130 interrupted",
    )
    parser.add_argument("--version", action="version", version=f"jupyter-automl {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the search described by a YAML config (the body of a %%%%automl cell)")
    run.add_argument("config", help="YAML file with the search options")
    run.add_argument("--storage", help="storage URL or file (default .jupyter_automl/studies.db)")
    run.add_argument("--name", help="study name")
    run.add_argument("--resume", action="store_true", help="continue the stored study of that name")
    run.add_argument("--time-budget", dest="time_budget", help="e.g. 90s, 5m")
    run.add_argument("--n-trials", dest="n_trials", type=int)
    run.add_argument("--seed", type=int)
    run.add_argument("--executor", choices=EXECUTORS, help="where trials run (default process)")
    run.add_argument("--set", action="append", metavar="KEY=VALUE", help="any other option, repeatable")
    run.add_argument("--export", metavar="PATH", help="write the standalone training script here")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.set_defaults(func=_cmd_run)
    worker = sub.add_parser("worker", help="join a stored study (shared storage such as PostgreSQL) and run its trials")
    worker.add_argument("--storage", required=True, help="the study's storage URL, e.g. postgresql://user@host/db")
    worker.add_argument("--name", required=True, help="study name")
    worker.add_argument("--data", help="where this machine reads the data (default: the study's own data option)")
    worker.add_argument("--n-trials", dest="n_trials", type=int, help="trial target of the study (default: its own)")
    worker.add_argument("--time-budget", dest="time_budget", help="how long this worker runs, e.g. 10m")
    worker.add_argument("--executor", choices=EXECUTORS, help="where this worker's trials run (default process)")
    worker.add_argument("--quiet", action="store_true", help="no progress bar")
    worker.set_defaults(func=_cmd_worker)
    studies = sub.add_parser("studies", help="list stored studies with their best scores")
    studies.add_argument("--storage", help="storage URL or file (default .jupyter_automl/studies.db)")
    studies.set_defaults(func=_cmd_studies)
    demo = sub.add_parser("demo", help="a short search on bundled data, printed as it goes")
    demo.add_argument("--time-budget", default="20s")
    demo.add_argument("--storage", default=None)
    demo.add_argument("--export", default="train_best.py")
    demo.set_defaults(func=_cmd_demo)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except ConfigError as exc:  # the command line or the config asked for something impossible
        print(f"jupyter-automl: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except AutoMLError as exc:  # the data, the storage or the search failed
        print(f"jupyter-automl: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("jupyter-automl: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
