"""Thread layout and sub-batches of the CTranslate2 runtime: chosen for the machine, overridable,
and never a change in what comes out (tiny real models; nothing is timed)."""

from __future__ import annotations

import math
import random
from pathlib import Path

import pytest

from syndication.translations.argos import ArgosEngine, CTranslate2Engine
from syndication.translations.argos_packages import install_file
from syndication.translations.ct2_runtime import (
    Ct2Model,
    RuntimeOptions,
    count_physical_cores,
    plan_sub_batches,
    sub_batch_limit,
    thread_layout,
)
from tests.argos_builder import write_model_dir

# ------------------------------------------------------------------------------ layout (pure)


@pytest.mark.parametrize(("cores", "expected"), [(1, (1, 1)), (2, (2, 1)), (4, (4, 1)), (16, (16, 1))])
def test_default_layout_is_one_single_threaded_replica_per_core(
    cores: int, expected: tuple[int, int]
) -> None:
    assert thread_layout(cores) == expected


def test_a_set_thread_count_wins_and_the_other_fills_the_cores() -> None:
    assert thread_layout(4, inter=1) == (1, 4)
    assert thread_layout(4, inter=3) == (3, 1)
    assert thread_layout(4, intra=2) == (2, 2)
    assert thread_layout(2, intra=1) == (2, 1)  # the tests' ARGOS_INTRA_THREADS=1
    assert thread_layout(4, intra=0) == (1, 0)  # CTranslate2's own choice may take every core
    assert thread_layout(2, inter=4, intra=3) == (4, 3)  # both set: taken as they are
    assert thread_layout(0) == (1, 1)


def test_options_from_config_use_the_layout_and_let_settings_win() -> None:
    auto = RuntimeOptions.from_config({}, environ={}, cores=4)
    assert (auto.inter_threads, auto.intra_threads, auto.max_batch_size) == (4, 1, 0)
    set_both = RuntimeOptions.from_config(
        {"inter_threads": 1, "intra_threads": 0, "max_batch_size": 32}, environ={}, cores=4
    )
    assert (set_both.inter_threads, set_both.intra_threads, set_both.max_batch_size) == (1, 0, 32)
    assert RuntimeOptions.from_config({"inter_threads": 2}, environ={}, cores=4).intra_threads == 2
    from_env = RuntimeOptions.from_config({}, environ={"ARGOS_INTRA_THREADS": "2"}, cores=4)
    assert (from_env.inter_threads, from_env.intra_threads) == (2, 2)
    config_beats_env = RuntimeOptions.from_config(
        {"intra_threads": 4}, environ={"ARGOS_INTRA_THREADS": "1"}, cores=4
    )
    assert (config_beats_env.inter_threads, config_beats_env.intra_threads) == (1, 4)
    gpu = RuntimeOptions.from_config({"device": "cuda"}, environ={}, cores=4)
    assert gpu.inter_threads == 1


def test_hyper_threads_of_one_core_count_once() -> None:
    siblings = {0: ("0", "0"), 1: ("0", "1"), 2: ("0", "0"), 3: ("0", "1")}
    assert count_physical_cores([0, 1, 2, 3], siblings.get) == 2
    assert count_physical_cores([0, 2], siblings.get) == 1  # affinity to two threads of one core
    two_sockets = {0: ("0", "0"), 1: ("1", "0")}  # same core id on another package
    assert count_physical_cores([0, 1], two_sockets.get) == 2
    assert count_physical_cores([5, 6, 7], lambda cpu: None) == 3  # topology unknown


# ------------------------------------------------------------------------------ sub-batches (pure)


def test_sub_batches_cover_every_input_once_longest_first_in_equal_shares() -> None:
    rng = random.Random(13)
    lengths = [rng.randint(1, 60) for _ in range(75)]
    for replicas in (1, 2, 3, 4):
        plan = plan_sub_batches(lengths, replicas)
        assert len(plan) == replicas * math.ceil(75 / (replicas * 64))  # about 64 inputs at most
        flat = [i for part in plan for i in part]
        assert sorted(flat) == list(range(75))
        assert [lengths[i] for i in flat] == sorted(lengths, reverse=True)
        costs = [sum(lengths[i] + 1 for i in part) for part in plan]
        share = sum(costs) / len(plan)
        assert max(costs) - min(costs) <= 2 * (max(lengths) + 1)
        assert all(abs(cost - share) <= max(lengths) + 1 for cost in costs)


def test_sub_batches_small_and_large_calls() -> None:
    assert plan_sub_batches([], 2) == []
    assert plan_sub_batches([7], 4) == [[0]]
    assert plan_sub_batches([3, 9], 4) == [[1], [0]]
    assert plan_sub_batches([100, 1, 1, 1], 2) == [[0], [1, 2, 3]]
    many = plan_sub_batches([5] * 300, 2, limit=64)
    assert len(many) == 6  # a multiple of the replicas, about 64 inputs each
    assert [len(part) for part in many] == [50] * 6


def test_sub_batches_shrink_as_the_beam_grows() -> None:
    # The decoder holds inputs x beam rows: the cap is on rows, so beam 4 gets a quarter of beam 1's.
    assert [sub_batch_limit(beam) for beam in (1, 2, 4, 8, 200)] == [64, 32, 16, 8, 1]
    assert sub_batch_limit(0) == 64
    plan = plan_sub_batches([5] * 75, 2, limit=sub_batch_limit(4))
    assert len(plan) == 6 and max(len(part) for part in plan) <= 16


# ------------------------------------------------------------------------------ same output


def _sentences(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    words = ["Netværk", "er", "guld", "og", "et", "godt", "netværk", "åbner", "døre", "messen", "i", "maj"]
    return [
        " ".join(rng.choice(words) for _ in range(rng.randint(1, 14))).capitalize() + "."
        for _ in range(count)
    ]


LAYOUTS = [
    {"inter_threads": 1, "intra_threads": 1, "max_batch_size": 32},  # the tests' settings before
    {},  # the machine's layout, balanced sub-batches
    {"inter_threads": 3, "intra_threads": 1},  # more replicas than this box has cores
    {"inter_threads": 2, "intra_threads": 1, "max_batch_size": 5},  # CTranslate2's own split
    {"inter_threads": 1, "intra_threads": 2},
]


@pytest.mark.parametrize("beam", [1, 2])
def test_same_text_whatever_the_thread_layout(packages_dir: Path, beam: int) -> None:
    segments = [
        *_sentences(70, seed=beam),
        'Netværk er <g id="1">guld</g>. Vi ses på messen.',
        'Læs mere på <g id="2">bloggen</g>.<x id="3"/>Hej.',
    ]
    results = []
    for layout in LAYOUTS:
        engine = ArgosEngine({"packages_dir": packages_dir, "beam_size": beam, **layout})
        results.append([o.text for o in engine.translate(segments, source="da", target="de")])
    expected = [s.lower() for s in segments]  # da→en upper-cases, en→de lower-cases
    assert all(result == expected for result in results)


def test_copy_model_gives_every_sentence_back_in_order_across_sub_batches(
    tmp_path: Path, argos_dist: dict[str, Path]
) -> None:
    install_file(argos_dist["da_en_copy_1.1"], tmp_path)
    sentences = _sentences(90, seed=7)
    engine = ArgosEngine({"packages_dir": tmp_path, "inter_threads": 3, "intra_threads": 1})
    assert [o.text for o in engine.translate(sentences, source="da", target="en")] == sentences


def test_sub_batches_keep_order_and_their_own_target_prefix(tmp_path: Path) -> None:
    engine = CTranslate2Engine(
        {
            "model": str(write_model_dir(tmp_path / "model", "copy")),
            "source": "da",
            "target": "en",
            "inter_threads": 3,
            "intra_threads": 1,
        }
    )
    model: Ct2Model = engine.model
    batch = model.encode(_sentences(40, seed=3))
    assert len(plan_sub_batches([len(tokens) for tokens in batch], 3)) == 3  # really split
    source = [list(tokens) for tokens in batch]
    # The copy model continues from whatever prefix it is given: a prefix handed to the wrong
    # input would show in that input's output.
    prefixes = [tokens[:1] for tokens in batch]
    results = model._run_batch(
        source, target_prefix=prefixes, beam_size=1, max_decoding_length=200, max_input_length=0
    )
    assert [list(result.hypotheses[0]) for result in results] == batch


def test_set_threads_reach_the_translator(packages_dir: Path) -> None:
    engine = ArgosEngine({"packages_dir": packages_dir, "inter_threads": 3, "intra_threads": 1})
    translator = engine._model(engine.route("da", "en")[0]).translator()
    assert translator.num_translators == 3
    auto = ArgosEngine({"packages_dir": packages_dir, "intra_threads": 1})
    assert auto._model(auto.route("da", "en")[0]).translator().num_translators == auto.options.inter_threads
