"""Fault injection for tests/faults: on PYTHONPATH, patches a scikit-learn ``fit`` in every process.

Environment:
  JA_FAULT        segfault | exit | memory | hang | kill   (nothing set: no patch, no import)
  JA_FAULT_MODEL  the estimator class whose fit faults (default KNeighborsClassifier)
  JA_FAULT_AFTER  fits of that class that succeed first in each process (default 0)
  JA_FAULT_BYTES  what ``memory`` allocates (default 2 GiB)
  JA_FAULT_UNLESS a file: while it exists, fits do not fault (a test switches the fault off)
  JA_FAULT_PLAN   several at once, e.g. "KNeighborsClassifier=segfault,ExtraTreesClassifier=memory"
                  (each class its own fault; JA_FAULT_MODEL is then ignored)
"""

import os

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

    def _patch(name, fault):
        cls = getattr(importlib.import_module(_CLASSES[name]), name)
        original_fit = cls.fit
        fits = [0]

        def _faulty_fit(self, *args, **kwargs):
            fits[0] += 1
            switch = os.environ.get("JA_FAULT_UNLESS")
            if fits[0] > _after and not (switch and os.path.exists(switch)):
                _fail(fault)
            return original_fit(self, *args, **kwargs)

        cls.fit = _faulty_fit

    if _PLAN:
        for _item in _PLAN.split(","):
            _name, _, _fault = _item.partition("=")
            _patch(_name.strip(), _fault.strip())
    else:
        _patch(os.environ.get("JA_FAULT_MODEL", "KNeighborsClassifier"), _FAULT)
