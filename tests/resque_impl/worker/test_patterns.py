"""Queue lists and patterns resolve exactly as Ruby Resque's worker resolves them."""

from __future__ import annotations

import pytest

from resque_impl.errors import NoQueueError
from resque_impl.worker.patterns import QueuePatterns, fnmatch

KNOWN = ["critical", "email", "email_bulk", "high", "low", "reports", ".hidden"]


def test_static_lists_are_used_as_given_without_looking_at_known_queues() -> None:
    patterns = QueuePatterns(["high", "low", "high"])
    assert patterns.static
    assert patterns.expand() == ["high", "low"]
    assert patterns.expand(["other"]) == ["high", "low"]


def test_star_means_every_known_queue_alphabetically() -> None:
    assert QueuePatterns(["*"]).expand(KNOWN) == sorted(q for q in KNOWN if not q.startswith("."))


def test_each_pattern_sorts_its_own_matches_then_lists_concatenate_in_pattern_order() -> None:
    patterns = QueuePatterns(["high", "e*", "*"])
    assert patterns.expand(KNOWN) == ["high", "email", "email_bulk", "critical", "low", "reports"]


def test_exclusions_remove_matching_queues_and_are_left_out_of_the_id() -> None:
    patterns = QueuePatterns(["*", "!low", "!email*"])
    assert patterns.expand(KNOWN) == ["critical", "high", "reports"]
    assert patterns.id_part == "*"


def test_question_marks_and_classes() -> None:
    assert QueuePatterns(["?ow"]).expand(KNOWN) == ["low"]
    assert QueuePatterns(["[ce]*"]).expand(KNOWN) == ["critical", "email", "email_bulk"]
    assert QueuePatterns(["[!ce]*"]).expand(KNOWN) == ["high", "low", "reports"]


@pytest.mark.parametrize(
    ("pattern", "name", "matches"),
    [
        ("*", ".hidden", False),  # Ruby's fnmatch needs a leading dot to be explicit
        (".*", ".hidden", True),
        ("a*c", "a/b/c", True),  # no FNM_PATHNAME: * crosses slashes
        ("\\*", "*", True),
        ("\\*", "x", False),
        ("[a-c]x", "bx", True),
        ("[]]", "]", True),
        ("{a,b}", "a", False),  # braces are literal without FNM_EXTGLOB
        ("[unclosed", "[unclosed", True),
    ],
)
def test_fnmatch_follows_ruby(pattern: str, name: str, matches: bool) -> None:
    assert fnmatch(pattern, name) is matches


def test_covers_tells_whether_a_push_concerns_the_worker() -> None:
    patterns = QueuePatterns(["high", "mail*", "!mail_bulk"])
    assert patterns.covers("high")
    assert patterns.covers("mail_daily")
    assert not patterns.covers("mail_bulk")
    assert not patterns.covers("low")


def test_a_worker_needs_a_queue() -> None:
    with pytest.raises(NoQueueError, match="at least one queue"):
        QueuePatterns([" ", "!low"])
