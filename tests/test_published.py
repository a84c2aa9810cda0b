"""Published training compute: the developers' own figures, never mixed or estimated."""

from __future__ import annotations

import pytest
from advisor.tools import load_catalog
from advisor.tools.published import load_training_runs, published_training, runs_named_in

from advisor.dispatch import plan
from advisor.errors import InvalidInputError
from advisor.route import Router
from advisor.verdict import compose


def test_every_run_has_a_source_and_a_quote():
    runs = load_training_runs()
    assert len(runs) >= 30 and all(r.sources and r.quote for r in runs)
    assert len({r.id for r in runs}) == len(runs)


def test_llama_2_70b_is_the_model_card_figure():
    """Llama 2 model card, pretraining GPU-hours table: 70B = 1,720,320 A100-80GB hours."""
    r = published_training("Llama 2 70B")
    assert r["gpu_hours"] == 1_720_320
    assert "A100-80GB" in r.headline and "Llama 2 Model Card" in r.headline
    assert r.inputs["runs"] == ["llama-2-70b"]  # not also Llama 2 7B


def test_two_models_named_are_both_found_in_order_and_figures_are_not_mixed():
    runs = runs_named_in("how long does it take to train Vicuna-7B and Vicuna-13B?")
    assert [r.id for r in runs] == ["vicuna-7b", "vicuna-13b"]
    r = published_training("Vicuna-7B and Vicuna-13B")
    assert r["cost_usd"] == 140  # Vicuna-7B's own figure
    assert "gpus" not in r.values  # the 7B row states no GPU count; the 13B's 8 is not borrowed
    assert "$300" in r.headline  # the 13B run is reported beside it


def test_a_model_without_a_record_is_a_typed_error():
    with pytest.raises(InvalidInputError):
        published_training("my own 3B model")


def test_a_question_about_a_past_run_leads_with_the_published_figure():
    cat = load_catalog()
    q = "How long did it take to train Llama 2 70B?"
    spec = Router(cat).route(q)
    p = plan(q, spec, cat)
    assert p.calls[0].tool == "published_training"
    v = compose(spec, [published_training("Llama 2 70B")])
    assert v is not None and v.text.startswith("Published: Llama 2 70B")
    own = Router(cat).route("How long would it take to train Llama 2 7B on 64 H100s for 1T tokens?")
    assert compose(own, [published_training("Llama 2 7B")]) is None or not compose(
        own, [published_training("Llama 2 7B")]
    ).text.startswith("Published")
