"""What a worker returns is checked before it is told to the study: a model whose
``predict_proba`` has the wrong shape fails its trial with the reason (real worker processes)."""

from __future__ import annotations


def test_probabilities_of_the_wrong_shape_fail_the_trial_with_the_reason(faulty, workdir):
    # every KNeighborsClassifier.predict_proba returns 200,000 columns for a 2-class problem
    options = {
        "models": ["linear", "knn"],
        "strategy": "random",
        "n_trials": 4,
        "cv": 2,
        "seed": 0,
        "storage": "memory",
        "ensemble": False,
    }
    result = faulty.run(options, "proba", workdir)
    rows = result["rows"]
    knn = [row for row in rows if row["model"] == "knn"]
    assert knn and all(row["state"] == "FAIL" for row in knn), rows
    assert all(
        "KNeighborsClassifier.predict_proba returned shape" in row["error"]
        and "200000) for" in row["error"]
        and "of 2 classes; expected (" in row["error"]
        for row in knn
    ), knn
    assert all(row["state"] == "COMPLETE" for row in rows if row["model"] != "knn")
    assert result["best_model"] == "Pipeline" and result["predicts"] == 3
