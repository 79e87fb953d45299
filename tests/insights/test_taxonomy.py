from __future__ import annotations

from insights.taxonomy import get_taxonomy, stems


def test_the_taxonomy_ships_enough_topics_with_keywords_in_every_required_area():
    taxonomy = get_taxonomy()
    assert 40 <= len(taxonomy.topics) <= 80
    categories = {topic.category for topic in taxonomy.topics.values()}
    assert {"home", "food", "travel", "sports", "music", "fashion", "family"} <= categories
    assert all(topic.keywords for topic in taxonomy.topics.values())
    assert taxonomy.name_of("home.baroque-classical") == "Baroque and classical interiors"


def test_keywords_match_after_stemming_and_accent_folding():
    taxonomy = get_taxonomy()
    assert stems("Churches and Frescoes") == stems("church and fresco")
    match = taxonomy.match("Gilded frescoes in the churches of Rome")
    assert "home.baroque-classical" in match.topic_ids
    assert "culture.churches" in match.topic_ids
    assert set(match.keywords_by_topic["home.baroque-classical"]) == {"fresco", "gilded"}
    assert "food.coffee" in taxonomy.match("Un caffe al bar").topic_ids


def test_phrases_match_only_as_a_whole():
    taxonomy = get_taxonomy()
    assert "home.mid-century" in taxonomy.match("a Danish design sideboard").topic_ids
    assert "home.mid-century" not in taxonomy.match("design of Danish pastries").topic_ids


def test_text_without_any_keyword_matches_nothing():
    assert get_taxonomy().match("xyzzy plugh", "").topic_ids == []


def test_place_kinds_come_from_the_place_name():
    taxonomy = get_taxonomy()
    assert "church" in taxonomy.place_kinds("Chiesa di Sant'Ivo alla Sapienza")
    assert "museum" in taxonomy.place_kinds("Musei Vaticani")
    assert taxonomy.place_kinds("") == []
