"""Fault injection for tests/faults: on PYTHONPATH, patches a scikit-learn ``fit`` in every process.

Environment:
  JA_FAULT        segfault | exit | memory | hang | kill   (nothing set: no patch, no import);
                  fork, forkhang, tmpfile: the fit goes on (forkhang: then hangs) after
                  forking a daemonised grandchild and a ``sleep`` subprocess, or writing
                  JA_FAULT_BYTES to a file under tempfile.gettempdir(); what it made is
                  appended to JA_FAULT_LOG (a line: the pid or path, then the pid of
                  the process whose fit made it);
                  proba: predict_proba returns 200,000 columns (a broken model)
  JA_FAULT_MODEL  the estimator class whose fit faults (default KNeighborsClassifier), or
                  ``torch.randperm``: a NAS training's epoch (torch draws each epoch's order
                  of its n rows), with JA_FAULT_ROWS counting those rows
  JA_FAULT_AFTER  fits of that class that succeed first in each process (default 0)
  JA_FAULT_BYTES  what ``memory`` allocates (default 2 GiB)
  JA_FAULT_UNLESS a file: while it exists, fits do not fault (a test switches the fault off)
  JA_FAULT_ROWS   only fits on at least this many rows fault (the final model's, not the
                  trials' folds)
  JA_FAULT_SPARE_PID a process id whose fits never fault (the searching process: only its
                  workers' fits do)
  JA_FAULT_PLAN   several at once, e.g. "KNeighborsClassifier=segfault,ExtraTreesClassifier=memory"
                  (each class its own fault; JA_FAULT_MODEL is then ignored)
  JA_FAULT_DASK_AFTER_TRIAL=kill  a Dask worker SIGKILLs itself the moment a trial's task has
                  returned, before its result reaches the scheduler (a worker lost right after
                  a trial, as to the OOM killer or a preempted machine); independent of JA_FAULT
"""

import os

if os.environ.get("JA_FAULT_DASK_AFTER_TRIAL") == "kill":
    import signal

    import distributed.worker as _dask_worker

    _run_task = _dask_worker._run_task

    def _run_task_then_die(task, data, execution_state, key, *args, **kwargs):
        message = _run_task(task, data, execution_state, key, *args, **kwargs)
        if str(key).startswith("ja-trial-"):
            os.kill(os.getpid(), signal.SIGKILL)
        return message

    _dask_worker._run_task = _run_task_then_die

_FAULT = os.environ.get("JA_FAULT")

_PLAN = os.environ.get("JA_FAULT_PLAN")

if _FAULT or _PLAN:
    import importlib

    _CLASSES = {
        "KNeighborsClassifier": "sklearn.neighbors",
        "LogisticRegression": "sklearn.linear_model",
        "RandomForestClassifier": "sklearn.ensemble",
        "ExtraTreesClassifier": "sklearn.ensemble",
    }
    _after = int(os.environ.get("JA_FAULT_AFTER", "0"))

    def _fail(fault):
        origin = os.getpid()  # the process whose fit faults
        if fault == "segfault":
            import ctypes

            ctypes.string_at(0)  # a real SIGSEGV, as a broken C extension would
        elif fault == "exit":
            os._exit(1)
        elif fault == "memory":
            block = bytearray(int(os.environ.get("JA_FAULT_BYTES", str(2 << 30))))
            block[::4096] = b"x" * len(block[::4096])
        elif fault == "hang":
            import time

            time.sleep(600)
        elif fault == "kill":
            import signal

            os.kill(os.getpid(), signal.SIGKILL)
        elif fault in ("fork", "forkhang"):
            import subprocess
            import time

            child = os.fork()
            if child == 0:  # a careless library daemonises a helper: the grandchild is orphaned
                if os.fork() == 0:
                    _log(os.getpid(), origin)
                    time.sleep(600)
                os._exit(0)
            os.waitpid(child, 0)
            _log(subprocess.Popen(["sleep", "600"]).pid, origin)
            if fault == "forkhang":
                time.sleep(600)
        elif fault == "tmpfile":
            import tempfile

            with tempfile.NamedTemporaryFile(delete=False, prefix="ja-fault-") as f:
                f.truncate(int(os.environ.get("JA_FAULT_BYTES", str(2 << 30))))
                f.seek(0)
                f.write(b"x" * 4096)
            _log(f.name, origin)

    def _log(item, origin):
        path = os.environ.get("JA_FAULT_LOG")
        if path:
            with open(path, "a") as f:
                f.write(f"{item} {origin}\n")

    def _patch_randperm(fault):
        import torch

        original = torch.randperm
        rows = int(os.environ.get("JA_FAULT_ROWS", "0"))

        def _faulty_randperm(n, *args, **kwargs):
            spared = os.environ.get("JA_FAULT_SPARE_PID") == str(os.getpid())
            if int(n) >= rows and not spared:
                _fail(fault)
            return original(n, *args, **kwargs)

        torch.randperm = _faulty_randperm

    def _patch(name, fault):
        if name == "torch.randperm":
            return _patch_randperm(fault)
        cls = getattr(importlib.import_module(_CLASSES[name]), name)
        if fault == "proba":
            import numpy as np

            def _wide_proba(self, X):
                wide = np.zeros((len(X), 200_000))
                wide[:, 0] = 1.0
                return wide

            cls.predict_proba = _wide_proba
            return
        original_fit = cls.fit
        fits = [0]

        def _faulty_fit(self, *args, **kwargs):
            fits[0] += 1
            switch = os.environ.get("JA_FAULT_UNLESS")
            spared = os.environ.get("JA_FAULT_SPARE_PID") == str(os.getpid())
            rows = os.environ.get("JA_FAULT_ROWS")
            if rows and args and len(args[0]) < int(rows):
                spared = True
            if fits[0] > _after and not (switch and os.path.exists(switch)) and not spared:
                _fail(fault)
            return original_fit(self, *args, **kwargs)

        cls.fit = _faulty_fit

    if _PLAN:
        for _item in _PLAN.split(","):
            _name, _, _fault = _item.partition("=")
            _patch(_name.strip(), _fault.strip())
    else:
        _patch(os.environ.get("JA_FAULT_MODEL", "KNeighborsClassifier"), _FAULT)
