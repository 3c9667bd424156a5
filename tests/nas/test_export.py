from __future__ import annotations

import runpy

import numpy as np
import pytest
import torch

from jupyter_automl.spaces.nas.spaces import NasCellSpace, NasChainSpace, NasDagSpace, NasMlpSpace
from tests.nas.conftest import diabetes_dataset, digits_dataset, make_config

CASES = [
    (NasCellSpace, {"channels": 4}, False),
    (NasDagSpace, {"channels": 4}, False),
    (NasChainSpace, {"widths": [8]}, False),
    (NasMlpSpace, {"widths": [16]}, False),
    (NasMlpSpace, {"widths": [16]}, True),
]


@pytest.mark.parametrize(("cls", "options", "regression"), CASES)
def test_exported_file_rebuilds_the_trained_model(tmp_path, cls, options, regression) -> None:
    data = diabetes_dataset() if regression else digits_dataset(120)
    space = cls(make_config(space=cls.name, epochs=1, space_options=options), data)
    space.check()
    params = {"genotype": space.genotype_cls.suggest(_trial_with(space.preset()),
                                                     space.options).to_string(),
              "epochs": 1, "lr": 0.01}
    model = space.fit_final(params, None)

    path = tmp_path / "net.py"
    path.write_text(space.export_source(params, model))
    torch.save(model.state_dict(), tmp_path / "weights.pt")
    source = path.read_text()
    assert "jupyter_automl" not in source.replace("jupyter-automl", "")
    namespace = runpy.run_path(str(path), run_name="exported")  # a fresh module, no __main__

    rebuilt = namespace["build_model"]()
    rebuilt.load_state_dict(torch.load(tmp_path / "weights.pt"))
    rebuilt.eval()
    X = space.prepared()[0][:16]
    with torch.no_grad():
        ours = model(torch.from_numpy(X)).numpy()
        theirs = rebuilt(torch.from_numpy(X)).numpy()
    assert np.array_equal(ours, theirs)
    assert namespace["GENOTYPE"] == params["genotype"]

    # the training snippet runs too
    trained = namespace["train"](namespace["build_model"](), X, space.prepared()[1][:16],
                                 epochs=1)
    assert trained(torch.from_numpy(X)).shape == ours.shape


def test_exported_file_runs_as_a_script(tmp_path) -> None:
    space = NasCellSpace(make_config(epochs=1, space_options={"channels": 4}),
                         digits_dataset(60))
    params = {"genotype": "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+"
                          "|none~0|none~1|skip_connect~2|"}
    path = tmp_path / "net.py"
    path.write_text(space.export_source(params, None))
    runpy.run_path(str(path), run_name="__main__")


def _trial_with(params):
    import optuna

    study = optuna.create_study()
    study.enqueue_trial(params)
    return study.ask()
