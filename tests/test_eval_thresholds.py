"""`check_thresholds`: a metric below its target, above its bound, or missing is a miss."""

from __future__ import annotations

from advisor.evals.run import MEASURED, check_thresholds, load_thresholds

LIMITS = {"decline_accuracy": 0.95, "unsupported_number_rate_max": 0.0}


def test_met_thresholds_pass():
    met = {"decline_accuracy": 0.96, "unsupported_number_rate_max": 0.0}
    assert check_thresholds(met, LIMITS) == []


def test_below_target_and_above_bound_miss():
    bad = {"decline_accuracy": 0.9, "unsupported_number_rate_max": 0.01}
    assert check_thresholds(bad, LIMITS) == [
        "decline_accuracy: 0.900 < 0.95",
        "unsupported_number_rate_max: 0.010 > 0.0",
    ]


def test_a_missing_metric_is_a_miss_not_a_pass():
    """Regression: a metric that went missing (absent, or None) used to pass silently."""
    absent = {"decline_accuracy": 0.99}
    assert check_thresholds(absent, LIMITS) == ["unsupported_number_rate_max: not measured"]
    none = {"decline_accuracy": None, "unsupported_number_rate_max": 0.0}
    assert check_thresholds(none, LIMITS) == ["decline_accuracy: not measured"]


def test_every_threshold_is_checked_by_eval_all_and_each_command_names_real_ones():
    names = set(load_thresholds())
    assert MEASURED["all"] == names
    for which, measured in MEASURED.items():
        assert measured <= names, which
    assert MEASURED["tools"] < MEASURED["all"] and MEASURED["real"] < MEASURED["answers"]
