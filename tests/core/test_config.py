from __future__ import annotations

import pytest

import jupyter_automl as ja
from jupyter_automl.config import SearchConfig, parse_duration


def test_durations_accept_numbers_and_units():
    assert parse_duration(90) == 90.0
    assert parse_duration("90s") == 90.0
    assert parse_duration("5m") == 300.0
    assert parse_duration("1h30m") == 5400.0
    # units written out: the longest spelling is read whole ("hours" was read as "h" + "ours")
    assert parse_duration("90 seconds") == 90.0
    assert parse_duration("1 hour 5 minutes") == 3900.0
    assert parse_duration("2 days") == parse_duration("2d") == 172800.0
    with pytest.raises(ValueError, match="duration like"):
        parse_duration("soon")
    with pytest.raises(ValueError, match=r"got '31d' \(31 days\), longer than a search may run"):
        parse_duration("31d")


def test_time_budget_defaults_to_60s_unless_trials_are_counted():
    assert SearchConfig().time_budget == 60.0
    assert SearchConfig(n_trials=5).time_budget is None
    assert SearchConfig(n_trials=5, time_budget="2m").time_budget == 120.0


def test_unknown_yaml_key_names_line_and_suggests():
    with pytest.raises(ja.ConfigError, match=r"unknown option 'time_budgt' \(line 2\) \(did you mean 'time_budget'\?\)"):
        SearchConfig.from_yaml("data: sklearn:iris\ntime_budgt: 30s\n")


def test_all_problems_are_reported_together():
    with pytest.raises(ja.ConfigError) as info:
        SearchConfig.from_yaml("strategy: tpee\nmetric: acuracy\nn_trials: many\ncv: 1\n")
    problems = info.value.problems
    assert len(problems) == 4
    assert "did you mean 'tpe'" in problems[0] and "(line 1)" in problems[0]
    assert "did you mean 'accuracy'" in problems[1]
    assert "n_trials" in problems[2] and "(line 3)" in problems[2]
    assert "cv" in problems[3]


def test_a_key_given_twice_is_refused_with_every_other_problem_and_its_place():
    text = "strategy: tpee\ncv: 3\ncv: 4\ntime_budgt: 30s\nn_jobs: 0\n"
    with pytest.raises(ja.ConfigError) as info:
        SearchConfig.from_yaml(text, first_line=2)  # as in a %%automl cell: line 1 is the magic
    details = info.value.details
    assert [d["message"] for d in details] == info.value.problems
    assert [(d["key"], d["line"], text[d["start"]:d["end"]]) for d in details] == [
        ("strategy", 2, "tpee"), ("cv", 4, "cv"), ("time_budgt", 5, "time_budgt"), ("n_jobs", 6, "0")]
    assert "duplicate option 'cv' (line 4; first given on line 3): keep one of them" == details[1]["message"]
    assert "(did you mean 'time_budget'?)" in details[2]["message"]


def test_malformed_yaml_names_the_line():
    with pytest.raises(ja.ConfigError, match="malformed YAML, line 2"):
        SearchConfig.from_yaml("data: x\nmodels: [linear\n")
    with pytest.raises(ja.ConfigError, match="expected 'option: value' lines"):
        SearchConfig.from_yaml("- a\n- b\n")


def test_wrong_types_and_values():
    with pytest.raises(ja.ConfigError, match="option 'n_jobs'.*-1"):
        SearchConfig(n_jobs=0)
    with pytest.raises(ja.ConfigError, match="option 'device'"):
        SearchConfig.from_dict({"device": "tpu"})
    with pytest.raises(ja.ConfigError, match="darts.*needs a NAS space"):
        SearchConfig.from_dict({"strategy": "darts"})


def test_unknown_keyword_in_python_is_a_config_error_not_type_error():
    with pytest.raises(ja.ConfigError, match="did you mean 'n_trials'"):
        ja.search(data="sklearn:iris", n_trial=3)
    assert issubclass(ja.ConfigError, ValueError)


def test_yaml_round_trip_keeps_only_changed_options():
    cfg = SearchConfig.from_yaml("data: sklearn:iris\nstrategy: random\ntime_budget: 5m\nmodels: [linear, knn]\n")
    text = cfg.to_yaml()
    assert "strategy: random" in text and "time_budget: 5m" in text and "cv" not in text
    assert SearchConfig.from_yaml(text) == cfg


def test_json_schema_lists_options_and_choices():
    schema = SearchConfig.json_schema()
    props = schema["properties"]
    assert {"data", "target", "strategy", "time_budget", "storage", "resume"} <= set(props)
    assert "evolution" in str(props["strategy"]) and "roc_auc" in str(props["metric"])
    assert schema.get("additionalProperties") is False


def test_strategy_auto_is_screened_evolution_or_random_on_nas_cell_and_tpe_elsewhere():
    # the stored config names the strategy that ran, and a cell written from it stays short
    assert SearchConfig().strategy == "tpe"
    # a short budget (the default minute) screens nothing: random search over successive halving
    # (TPE chases the cells that lead after one epoch: benchmarks/nas_shapes.py --task hard)
    assert SearchConfig(space="nas-cell").strategy == "random"
    assert SearchConfig(space="nas-cell").to_yaml() == "space: nas-cell\n"
    cell = SearchConfig(space="nas-cell", time_budget=600)
    assert cell.strategy == "evolution" and cell.to_yaml() == "space: nas-cell\ntime_budget: 10m\n"
    assert SearchConfig.from_yaml(cell.to_yaml()).strategy == "evolution"
    assert SearchConfig(space="nas-cell", proxy="none", time_budget=600).strategy == "random"  # no screened population
    assert SearchConfig(space="nas-mlp").strategy == "tpe"
    two = SearchConfig(space="nas-cell", objectives=["accuracy", "params"])
    assert two.strategy == "tpe"  # a Pareto front: evolution has one objective
    chosen = SearchConfig(space="nas-cell", strategy="tpe", time_budget=600)
    assert chosen.strategy == "tpe" and "strategy: tpe" in chosen.to_yaml()


def test_evolution_with_two_objectives_is_refused_before_any_work():
    with pytest.raises(ja.ConfigError, match="strategy 'evolution' optimises one objective.*"
                       "use strategy: tpe"):
        SearchConfig(space="nas-cell", strategy="evolution", objectives=["accuracy", "params"])
