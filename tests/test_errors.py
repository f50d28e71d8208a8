"""redline.errors: one hierarchy, located messages, and the did-you-mean suggestion."""
from __future__ import annotations

import pytest

import redline
from redline.errors import (ExpressionError, Location, ParameterError, RedlineError, ResourceError, ScenarioError,
                            SimulationError, did_you_mean)


@pytest.mark.parametrize("cls", [ScenarioError, ExpressionError, ParameterError, SimulationError, ResourceError])
def test_every_error_is_a_redline_error(cls):
    err = cls("bad thing")
    assert isinstance(err, RedlineError) and err.message == "bad thing" and err.location is None
    assert str(err) == "bad thing"


@pytest.mark.parametrize("location, text", [
    (Location("s.yaml", 3, 7), "s.yaml:3:7: no"),
    (Location("s.yaml", 3), "s.yaml:3: no"),
    (Location("s.yaml", None, 7), "s.yaml: no"),  # a column without a line means nothing
    (Location(), "<input>: no"),
])
def test_a_located_error_prints_file_line_column(location, text):
    assert str(ScenarioError("no", location)) == text


def test_location_repr_round_trips_its_fields():
    assert repr(Location("f", 1, 2)) == "Location('f', 1, 2)"


def test_did_you_mean_suggests_the_closest_choice_only_when_close():
    assert did_you_mean("tenson", ["tension", "support"]) == "; did you mean 'tension'?"
    assert did_you_mean("zzz", ["tension", "support"]) == ""
    assert did_you_mean("x", []) == ""
    # ties are broken the same way every time (choices are sorted first)
    assert did_you_mean("ab", ["ac", "aa"]) == did_you_mean("ab", ["aa", "ac"])


def test_the_errors_are_part_of_the_public_face():
    for name in ("RedlineError", "ScenarioError", "ExpressionError", "ParameterError"):
        assert name in redline.__all__ and getattr(redline, name) is getattr(redline.errors, name)


def test_an_error_is_one_line_whatever_names_it_quotes():
    """Found by the loader fuzz test: a mapping key '\\n' in a scenario came back as an error of
    two lines. Control characters and line separators in a message or a file name are escaped."""
    from redline.scenario.load import scenario_from_text

    with pytest.raises(ScenarioError) as caught:
        scenario_from_text('meta:\n  "\\n": 1\n  "\\u2028\\e[31m": 2\n', name="two\nlines.yaml")
    text = str(caught.value)
    assert text.splitlines() == [text] and "\\n" in text and text.startswith("two\\nlines.yaml:")
    err = ParameterError("tab\there, bell\a, separator\u2028, é kept", Location("f.yaml", 1, 2))
    assert str(err) == "f.yaml:1:2: tab\\there, bell\\x07, separator\\u2028, é kept"
