"""Surveys: option rules per kind, answers checked by the database, windows, anonymity."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import psycopg
import pytest

from dal import Conflict, InvalidData, NotFound, ReferenceMissing
from dal.db import Pool
from tests.community_helpers import count, event, now, server, user
from tests.community_helpers import survey as draft_survey
from tests.factories import race
from tests.flavoured import events, surveys

pytestmark = pytest.mark.flavours

Conn = psycopg.Connection[Any]


def open_survey(conn: Conn, **extra: Any) -> surveys.Survey:
    """A published survey, open now (community_helpers.survey, then publish)."""
    return surveys.publish(conn, draft_survey(conn, **extra).id)


def test_survey_rules(conn: Conn) -> None:
    srv, elsewhere = server(conn), server(conn)
    start = now()
    base: dict[str, Any] = {"server_id": srv.id, "title": "Poll", "opens_at": start}
    with pytest.raises(InvalidData) as window:
        surveys.create(conn, **base, closes_at=start)
    assert window.value.constraint == "surveys_opens_before_closes"
    with pytest.raises(InvalidData) as title:
        surveys.create(conn, **(base | {"title": ""}), closes_at=start + timedelta(days=1))
    assert title.value.constraint == "surveys_title_length"
    foreign_event = event(conn, elsewhere)
    with pytest.raises(ReferenceMissing) as wrong_server:
        surveys.create(conn, **base, closes_at=start + timedelta(days=1), event_id=foreign_event.id)
    assert wrong_server.value.constraint == "surveys_event_id_fkey"
    assert count(conn, "surveys") == 0
    own_event = event(conn, srv)
    linked = surveys.create(
        conn, **base, closes_at=start + timedelta(days=1), event_id=own_event.id
    )
    events.delete(conn, own_event.id)
    unlinked = surveys.get(conn, linked.id)
    assert (unlinked.event_id, unlinked.server_id) == (None, srv.id)  # SET NULL (event_id) only


@pytest.mark.parametrize(
    ("kind", "options"),
    [
        ("single_choice", ["only one"]),
        ("multi_choice", {"a": 1}),
        ("rating", {"min": 5, "max": 1}),
        ("rating", {"min": 1}),
        ("rating", {"min": 1, "max": 5, "step": 1}),
        ("text", ["a", "b"]),
    ],
)
def test_options_must_fit_the_kind(conn: Conn, kind: str, options: Any) -> None:
    survey = open_survey(conn)
    with pytest.raises(InvalidData) as caught:
        surveys.add_question(conn, survey.id, position=1, kind=kind, prompt="Q?", options=options)
    assert caught.value.constraint == "survey_questions_options_match_kind"
    assert count(conn, "survey_questions") == 0


@pytest.mark.parametrize(
    ("kind", "options"),
    [("single_choice", ["a", 2]), ("rating", {"min": 0.5, "max": 5}), ("rating", "1-5")],
)
def test_options_of_the_wrong_type_are_refused_at_the_call(
    conn: Conn, kind: str, options: Any
) -> None:
    survey = open_survey(conn)
    with pytest.raises(InvalidData) as caught:
        surveys.add_question(conn, survey.id, position=1, kind=kind, prompt="Q?", options=options)
    assert (caught.value.column, caught.value.constraint) == ("options", None)
    assert count(conn, "survey_questions") == 0


def test_question_position_and_kind(conn: Conn) -> None:
    survey = open_survey(conn)
    surveys.add_question(conn, survey.id, position=1, kind="text", prompt="Why?")
    with pytest.raises(Conflict) as taken:
        surveys.add_question(conn, survey.id, position=1, kind="text", prompt="Again?")
    assert taken.value.constraint == "survey_questions_survey_id_position_key"
    with pytest.raises(InvalidData) as kind:
        surveys.add_question(conn, survey.id, position=2, kind="essay", prompt="Hm?")
    assert kind.value.constraint == "survey_questions_kind_valid"
    with pytest.raises(InvalidData) as position:
        surveys.add_question(conn, survey.id, position=0, kind="text", prompt="Zero?")
    assert position.value.constraint == "survey_questions_position_positive"
    assert [q.prompt for q in surveys.questions(conn, survey.id)] == ["Why?"]


@pytest.mark.parametrize(
    ("kind", "options", "good", "bad"),
    [
        ("single_choice", ["tea", "coffee"], "tea", ["water", ["tea"], 1]),
        ("multi_choice", ["a", "b", "c"], ["a", "c"], [[], ["a", "a"], ["z"], "a", [1]]),
        ("rating", {"min": 1, "max": 5}, 4, [0, 6, 2.5, "4"]),
        ("text", None, "Lovely", ["", "   ", 3, ["x"]]),
    ],
)
def test_answers_are_checked_against_the_kind(
    conn: Conn, kind: str, options: Any, good: Any, bad: list[Any]
) -> None:
    survey = open_survey(conn)
    q = surveys.add_question(conn, survey.id, position=1, kind=kind, prompt="?", options=options)
    person = user(conn)
    for value in bad:
        with pytest.raises(InvalidData) as caught:
            surveys.answer(conn, q.id, person.id, value)
        assert caught.value.constraint == "survey_responses_answer_matches_kind", value
    assert count(conn, "survey_responses") == 0
    assert surveys.answer(conn, q.id, person.id, good).answer == good
    with pytest.raises(Conflict) as twice:
        surveys.answer(conn, q.id, person.id, good)
    assert twice.value.constraint == "survey_responses_pkey"
    assert count(conn, "survey_responses") == 1


def test_answers_only_inside_the_open_window(conn: Conn) -> None:
    srv = server(conn)
    person = user(conn)
    t = now()
    cases = {
        "future": (t + timedelta(hours=1), t + timedelta(hours=2), True),
        "past": (t - timedelta(hours=2), t - timedelta(hours=1), True),
        "draft": (t - timedelta(hours=1), t + timedelta(hours=1), False),
    }
    for label, (opens, closes, publish) in cases.items():
        survey = surveys.create(
            conn, server_id=srv.id, title=label, opens_at=opens, closes_at=closes
        )
        if publish:
            surveys.publish(conn, survey.id)
        q = surveys.add_question(conn, survey.id, position=1, kind="text", prompt="?")
        with pytest.raises(InvalidData) as caught:
            surveys.answer(conn, q.id, person.id, "hello")
        assert caught.value.constraint == "survey_responses_within_window", label
    assert count(conn, "survey_responses") == 0
    # Moving a window to include now opens it; cancelling closes it again.
    survey = surveys.for_server(conn, srv.id)[-1]
    assert survey.title == "past"
    surveys.set_window(conn, survey.id, t - timedelta(hours=1), t + timedelta(hours=1))
    (q,) = surveys.questions(conn, survey.id)
    surveys.answer(conn, q.id, person.id, "made it")
    surveys.cancel(conn, survey.id)
    with pytest.raises(InvalidData):
        surveys.answer(conn, q.id, user(conn).id, "too late")
    assert count(conn, "survey_responses") == 1


def test_answer_all_is_all_or_nothing(conn: Conn) -> None:
    survey = open_survey(conn)
    q1 = surveys.add_question(
        conn, survey.id, position=1, kind="rating", prompt="Rate", options={"min": 1, "max": 5}
    )
    q2 = surveys.add_question(
        conn, survey.id, position=2, kind="single_choice", prompt="Pick", options=["x", "y"]
    )
    person = user(conn)
    with pytest.raises(InvalidData):
        surveys.answer_all(conn, person.id, {q1.id: 5, q2.id: "nope"})
    assert count(conn, "survey_responses") == 0
    assert len(surveys.answer_all(conn, person.id, {q1.id: 5, q2.id: "x"})) == 2


def _fill(conn: Conn, survey: surveys.Survey) -> tuple[list[surveys.Question], list[Any]]:
    qs = [
        surveys.add_question(
            conn, survey.id, position=1, kind="single_choice", prompt="Day?", options=["sat", "sun"]
        ),
        surveys.add_question(
            conn,
            survey.id,
            position=2,
            kind="multi_choice",
            prompt="Food?",
            options=["pizza", "salad", "soup"],
        ),
        surveys.add_question(
            conn, survey.id, position=3, kind="rating", prompt="Fun?", options={"min": 1, "max": 5}
        ),
        surveys.add_question(conn, survey.id, position=4, kind="text", prompt="Notes?"),
    ]
    people = [user(conn) for _ in range(3)]
    answers = [
        ("sat", ["pizza", "soup"], 5, "great"),
        ("sat", ["pizza"], 4, None),
        ("sun", ["salad", "pizza"], 3, "ok"),
    ]
    for person, values in zip(people, answers, strict=True):
        surveys.answer_all(
            conn, person.id, {q.id: v for q, v in zip(qs, values, strict=True) if v is not None}
        )
    return qs, people


def test_results_are_aggregated_per_question(conn: Conn) -> None:
    survey = open_survey(conn)
    _fill(conn, survey)
    day, food, fun, notes = surveys.results(conn, survey.id)
    assert (day.answers, day.option_counts) == (3, {"sat": 2, "sun": 1})
    assert food.option_counts == {"pizza": 3, "salad": 1, "soup": 1}
    assert fun.average_rating == pytest.approx(4.0)
    assert (notes.answers, notes.option_counts, notes.average_rating) == (2, {}, None)
    named = surveys.named_responses(conn, survey.id)
    assert len(named) == 11
    assert len({r.user_id for r in named}) == 3


def test_anonymous_surveys_never_reveal_who_answered(conn: Conn) -> None:
    survey = open_survey(conn, anonymous=True)
    _, people = _fill(conn, survey)
    results = surveys.results(conn, survey.id)
    assert [r.answers for r in results] == [3, 3, 3, 2]
    text = repr(results)
    assert all(str(p.id) not in text for p in people)
    assert all(not hasattr(r, "user_id") for r in results)
    with pytest.raises(InvalidData) as caught:
        surveys.named_responses(conn, survey.id)
    assert caught.value.column == "anonymous"
    # The query itself returns nothing for an anonymous survey, whoever calls it.
    from dal import queries

    rows = queries.fetch_all(
        conn, "surveys.list_named_responses", {"survey_id": survey.id}, surveys.Response
    )
    assert rows == []
    # And it can never be made named after the fact.
    with pytest.raises(psycopg.errors.CheckViolation) as irreversible:
        conn.execute("UPDATE surveys SET anonymous = false WHERE id = %s", [survey.id])
    assert irreversible.value.diag.constraint_name == "surveys_anonymity_irreversible"
    assert surveys.get(conn, survey.id).anonymous


def test_naive_datetimes_are_refused(conn: Conn) -> None:
    srv = server(conn)
    start = now()
    base: dict[str, Any] = {
        "server_id": srv.id,
        "title": "Poll",
        "opens_at": start,
        "closes_at": start + timedelta(days=1),
    }
    for field in ("opens_at", "closes_at"):
        with pytest.raises(InvalidData) as created:
            surveys.create(conn, **(base | {field: base[field].replace(tzinfo=None)}))
        assert created.value.column == field
    assert count(conn, "surveys") == 0
    survey = surveys.create(conn, **base)
    with pytest.raises(InvalidData) as moved:
        surveys.set_window(conn, survey.id, start, (start + timedelta(days=2)).replace(tzinfo=None))
    assert moved.value.column == "closes_at"
    assert surveys.get(conn, survey.id) == survey


def test_results_read_one_snapshot(conn: Conn, pool: Pool, monkeypatch: pytest.MonkeyPatch) -> None:
    """An answer committed between the totals and the option counts is in neither (at
    READ COMMITTED it was counted per option but not in the question's total)."""
    from dal import queries

    survey = open_survey(conn)
    (day, *_), _people = _fill(conn, survey)
    real_fetch_all = queries.fetch_all

    def interleaved(db: Any, name: str, params: Any, row: Any) -> Any:
        found = real_fetch_all(db, name, params, row)
        if name == "surveys.question_totals":
            surveys.answer(conn, day.id, user(conn).id, "sun")
        return found

    monkeypatch.setattr(queries, "fetch_all", interleaved)
    first, *_ = surveys.results(pool, survey.id)
    monkeypatch.undo()
    assert (first.answers, first.option_counts) == (3, {"sat": 2, "sun": 1})


def test_results_of_a_missing_survey_is_not_found(pool: Pool) -> None:
    with pytest.raises(NotFound):
        surveys.results(pool, 10**9)


@pytest.mark.parametrize("kind", ["single_choice", "multi_choice"])
@pytest.mark.parametrize(
    "options",
    [["a", "a"], ["Yes", "Yes "], ["", "b"], ["   ", "b"], ["x" * 201, "b"]],
)
def test_choices_are_distinct_non_blank_and_bounded(conn: Conn, kind: str, options: Any) -> None:
    survey = open_survey(conn)
    with pytest.raises(InvalidData) as caught:
        surveys.add_question(conn, survey.id, position=1, kind=kind, prompt="Q?", options=options)
    assert caught.value.constraint == "survey_questions_options_valid_choices"
    assert caught.value.table == "survey_questions"
    assert count(conn, "survey_questions") == 0
    fine = surveys.add_question(
        conn, survey.id, position=1, kind=kind, prompt="Q?", options=["x" * 200, "b"]
    )
    with pytest.raises(InvalidData) as edited:
        surveys.update_question(conn, fine.id, options=options)
    assert edited.value.constraint == "survey_questions_options_valid_choices"
    assert surveys.get_question(conn, fine.id) == fine


def test_choice_rule_holds_for_any_writer(conn: Conn) -> None:
    survey = open_survey(conn)
    q = surveys.add_question(
        conn, survey.id, position=1, kind="single_choice", prompt="?", options=["a", "b"]
    )
    with pytest.raises(psycopg.errors.CheckViolation) as caught:
        conn.execute("""UPDATE survey_questions SET options = '["a", "a"]' WHERE id = %s""", [q.id])
    assert caught.value.diag.constraint_name == "survey_questions_options_valid_choices"
    # Rating and text questions are not choice questions: the rule leaves them alone.
    rating = surveys.add_question(
        conn, survey.id, position=2, kind="rating", prompt="?", options={"min": 1, "max": 5}
    )
    assert rating.options == {"min": 1, "max": 5}
    assert surveys.get_question(conn, q.id) == q


@pytest.mark.parametrize(
    ("start", "to", "allowed"),
    [
        ("draft", "published", True),
        ("draft", "cancelled", True),
        ("published", "cancelled", True),
        ("published", "draft", False),
        ("cancelled", "published", False),
        ("cancelled", "draft", False),
    ],
)
def test_the_database_keeps_survey_status_moves_for_any_writer(
    conn: Conn, start: str, to: str, allowed: bool
) -> None:
    survey = draft_survey(conn, server(conn))  # a draft: the moves below reach `start`
    for step in {"draft": [], "published": ["published"], "cancelled": ["cancelled"]}[start]:
        conn.execute("UPDATE surveys SET status = %s WHERE id = %s", [step, survey.id])
    move = "UPDATE surveys SET status = %s WHERE id = %s RETURNING status"
    if allowed:
        assert conn.execute(move, [to, survey.id]).fetchone() == (to,)
        return
    with pytest.raises(psycopg.errors.CheckViolation) as refused:
        conn.execute(move, [to, survey.id])
    assert refused.value.diag.constraint_name == "surveys_status_transition"
    assert surveys.get(conn, survey.id).status == start


def test_survey_status_moves_one_way(conn: Conn) -> None:
    srv = server(conn)
    t = now()
    window: dict[str, Any] = {
        "opens_at": t - timedelta(hours=1),
        "closes_at": t + timedelta(hours=1),
    }
    draft = surveys.create(conn, server_id=srv.id, title="Poll", **window)
    assert surveys.cancel(conn, draft.id).status == "cancelled"  # a draft may be dropped
    survey = surveys.create(conn, server_id=srv.id, title="Poll", **window)
    assert surveys.publish(conn, survey.id).status == "published"
    assert surveys.publish(conn, survey.id).status == "published"  # idempotent
    surveys.cancel(conn, survey.id)
    cancelled = surveys.cancel(conn, survey.id)  # idempotent
    assert cancelled.status == "cancelled"
    for again in (draft, cancelled):
        with pytest.raises(InvalidData) as caught:
            surveys.publish(conn, again.id)
        assert caught.value.constraint == "surveys_status_transition"
        assert (caught.value.table, caught.value.column) == ("surveys", "status")
    assert surveys.get(conn, survey.id) == cancelled  # nothing written
    (q,) = [surveys.add_question(conn, survey.id, position=1, kind="text", prompt="?")]
    with pytest.raises(InvalidData) as closed:
        surveys.answer(conn, q.id, user(conn).id, "hello")
    assert closed.value.constraint == "survey_responses_within_window"
    with pytest.raises(NotFound):
        surveys.publish(conn, 10**9)


def test_update_title_and_description(conn: Conn) -> None:
    survey = open_survey(conn)
    renamed = surveys.update(conn, survey.id, title="How did it go?")
    assert (renamed.title, renamed.description) == ("How did it go?", survey.description)
    assert renamed.updated_at >= survey.updated_at
    described = surveys.update(conn, survey.id, description="Two minutes, promised")
    assert (described.title, described.description) == ("How did it go?", "Two minutes, promised")
    for fields, constraint in [
        ({"title": "  "}, "surveys_title_length"),
        ({"title": "Fine", "description": "d" * 10001}, "surveys_description_length"),
    ]:
        with pytest.raises(InvalidData) as caught:
            surveys.update(conn, survey.id, **fields)
        assert caught.value.constraint == constraint
    assert surveys.get(conn, survey.id) == described  # nothing written, title included
    cancelled = surveys.cancel(conn, survey.id)
    with pytest.raises(Conflict) as frozen:
        surveys.update(conn, survey.id, title="Too late")
    assert frozen.value.column == "status"
    assert surveys.get(conn, survey.id) == cancelled
    with pytest.raises(NotFound):
        surveys.update(conn, 10**9, title="Nobody")


def test_get_and_update_a_question_until_it_is_answered(conn: Conn) -> None:
    survey = open_survey(conn)
    q = surveys.add_question(
        conn, survey.id, position=1, kind="single_choice", prompt="Tea?", options=["tea", "coffee"]
    )
    other = surveys.add_question(conn, survey.id, position=2, kind="text", prompt="Why?")
    assert surveys.get_question(conn, q.id) == q
    edited = surveys.update_question(conn, q.id, prompt="Drink?", options=["tea", "water"])
    assert (edited.prompt, edited.options, edited.kind) == ("Drink?", ["tea", "water"], q.kind)
    rated = surveys.update_question(conn, q.id, kind="rating", options={"min": 1, "max": 5})
    assert (rated.kind, rated.options, rated.prompt) == ("rating", {"min": 1, "max": 5}, "Drink?")
    with pytest.raises(InvalidData) as mismatch:
        surveys.update_question(conn, q.id, kind="text")  # keeps the rating options
    assert mismatch.value.constraint == "survey_questions_options_match_kind"
    with pytest.raises(Conflict) as taken:
        surveys.update_question(conn, q.id, position=other.position, prompt="Moved?")
    assert taken.value.constraint == "survey_questions_survey_id_position_key"
    assert surveys.get_question(conn, q.id) == rated  # nothing written
    surveys.answer(conn, q.id, user(conn).id, 4)
    with pytest.raises(Conflict) as answered:
        surveys.update_question(conn, q.id, prompt="Changed after the fact")
    assert answered.value.table == "survey_questions"
    assert surveys.get_question(conn, q.id) == rated
    for missing in (surveys.get_question, surveys.update_question):
        with pytest.raises(NotFound):
            missing(conn, 10**9)


def test_an_edit_waits_for_an_answer_being_written_then_refuses(conn: Conn, pool: Pool) -> None:
    survey = open_survey(conn)
    q = surveys.add_question(
        conn, survey.id, position=1, kind="single_choice", prompt="?", options=["tea", "coffee"]
    )
    person = user(conn)
    outcome = race(
        pool,
        conn,
        lambda answering: surveys.answer(answering, q.id, person.id, "coffee"),
        lambda: surveys.update_question(pool, q.id, options=["tea", "water"]),
    )
    assert isinstance(outcome, Conflict), outcome
    assert surveys.get_question(conn, q.id) == q
    assert [r.answer for r in surveys.named_responses(conn, survey.id)] == ["coffee"]


def test_an_answer_waits_for_an_edit_then_is_checked_against_it(conn: Conn, pool: Pool) -> None:
    """Before migration 0032 the answer trigger read the question unlocked: a "coffee"
    answer was checked against the old options and stored next to the edited ones."""
    survey = open_survey(conn)
    q = surveys.add_question(
        conn, survey.id, position=1, kind="single_choice", prompt="?", options=["tea", "coffee"]
    )
    person = user(conn)
    outcome = race(
        pool,
        conn,
        lambda editing: surveys.update_question(editing, q.id, options=["tea", "water"]),
        lambda: surveys.answer(pool, q.id, person.id, "coffee"),
    )
    assert isinstance(outcome, InvalidData), outcome
    assert outcome.constraint == "survey_responses_answer_matches_kind"
    assert surveys.get_question(conn, q.id).options == ["tea", "water"]
    assert count(conn, "survey_responses") == 0


def test_change_and_withdraw_an_answer_while_open(conn: Conn) -> None:
    survey = open_survey(conn)
    q = surveys.add_question(
        conn, survey.id, position=1, kind="rating", prompt="Fun?", options={"min": 1, "max": 5}
    )
    person, stranger = user(conn), user(conn)
    given = surveys.answer(conn, q.id, person.id, 2)
    changed = surveys.change_answer(conn, q.id, person.id, 5)
    assert (changed.answer, changed.user_id) == (5, person.id)
    assert changed.answered_at >= given.answered_at
    with pytest.raises(InvalidData) as bad:
        surveys.change_answer(conn, q.id, person.id, 9)
    assert bad.value.constraint == "survey_responses_answer_matches_kind"
    assert surveys.named_responses(conn, survey.id) == [changed]  # nothing written
    for call in (surveys.change_answer, surveys.withdraw_answer):
        with pytest.raises(NotFound):
            call(conn, q.id, stranger.id, *([3] if call is surveys.change_answer else []))
    surveys.withdraw_answer(conn, q.id, person.id)
    assert count(conn, "survey_responses") == 0
    with pytest.raises(NotFound):
        surveys.withdraw_answer(conn, q.id, person.id)
    with pytest.raises(NotFound):
        surveys.withdraw_answer(conn, 10**9, person.id)
    assert surveys.answer(conn, q.id, person.id, 3).answer == 3  # answering again is fine


@pytest.mark.parametrize("close", ["cancel", "past_window"])
def test_answers_stay_once_the_survey_closes(conn: Conn, close: str) -> None:
    survey = open_survey(conn)
    q = surveys.add_question(conn, survey.id, position=1, kind="text", prompt="Notes?")
    person = user(conn)
    given = surveys.answer(conn, q.id, person.id, "first")
    if close == "cancel":
        surveys.cancel(conn, survey.id)
    else:
        t = now()
        surveys.set_window(conn, survey.id, t - timedelta(days=2), t - timedelta(days=1))
    with pytest.raises(InvalidData) as changed:
        surveys.change_answer(conn, q.id, person.id, "second")
    assert changed.value.constraint == "survey_responses_within_window"
    with pytest.raises(InvalidData) as withdrawn:
        surveys.withdraw_answer(conn, q.id, person.id)
    assert withdrawn.value.constraint == "survey_responses_within_window"
    assert surveys.named_responses(conn, survey.id) == [given]


def test_delete_question_and_survey_take_their_answers(conn: Conn) -> None:
    survey = open_survey(conn)
    qs, _people = _fill(conn, survey)
    answers = count(conn, "survey_responses")
    first_answers = len(
        [r for r in surveys.named_responses(conn, survey.id) if r.question_id == qs[0].id]
    )
    surveys.delete_question(conn, qs[0].id)
    assert [q.id for q in surveys.questions(conn, survey.id)] == [q.id for q in qs[1:]]
    assert count(conn, "survey_responses") == answers - first_answers
    with pytest.raises(NotFound):
        surveys.delete_question(conn, qs[0].id)
    other = open_survey(conn)
    kept = surveys.add_question(conn, other.id, position=1, kind="text", prompt="Stays?")
    surveys.delete(conn, survey.id)
    with pytest.raises(NotFound):
        surveys.get(conn, survey.id)
    with pytest.raises(NotFound):
        surveys.delete(conn, survey.id)
    assert count(conn, "survey_responses") == 0
    assert [q.id for q in surveys.questions(conn, other.id)] == [kept.id]
