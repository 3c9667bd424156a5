"""Fault injection for tests/faults: on PYTHONPATH, patches a scikit-learn ``fit`` in every process.

Environment:
  JA_FAULT        segfault | exit | memory | hang | kill   (nothing set: no patch, no import)
  JA_FAULT_MODEL  the estimator class whose fit faults (default KNeighborsClassifier)
  JA_FAULT_AFTER  fits of that class that succeed first in each process (default 0)
  JA_FAULT_BYTES  what ``memory`` allocates (default 2 GiB)
  JA_FAULT_UNLESS a file: while it exists, fits do not fault (a test switches the fault off)
"""

import os

_FAULT = os.environ.get("JA_FAULT")

if _FAULT:
    import importlib

    _CLASSES = {
        "KNeighborsClassifier": "sklearn.neighbors",
        "LogisticRegression": "sklearn.linear_model",
        "RandomForestClassifier": "sklearn.ensemble",
    }
    _name = os.environ.get("JA_FAULT_MODEL", "KNeighborsClassifier")
    _cls = getattr(importlib.import_module(_CLASSES[_name]), _name)
    _original_fit = _cls.fit
    _after = int(os.environ.get("JA_FAULT_AFTER", "0"))
    _fits = [0]

    def _faulty_fit(self, *args, **kwargs):
        _fits[0] += 1
        switch = os.environ.get("JA_FAULT_UNLESS")
        if _fits[0] > _after and not (switch and os.path.exists(switch)):
            if _FAULT == "segfault":
                import ctypes

                ctypes.string_at(0)  # a real SIGSEGV, as a broken C extension would
            elif _FAULT == "exit":
                os._exit(1)
            elif _FAULT == "memory":
                block = bytearray(int(os.environ.get("JA_FAULT_BYTES", str(2 << 30))))
                block[::4096] = b"x" * len(block[::4096])
            elif _FAULT == "hang":
                import time

                time.sleep(600)
            elif _FAULT == "kill":
                import signal

                os.kill(os.getpid(), signal.SIGKILL)
        return _original_fit(self, *args, **kwargs)

    _cls.fit = _faulty_fit
