"""Every remaining community, wellbeing and configuration constraint, broken once.

Each case breaks one constraint through the DAL function that writes the table,
or, where no DAL call can produce the bad value, through the named query
(`queries.execute`) or a raw statement under `errors.translating()`. It checks
the typed error, the constraint it names, and that the tables it touches are
exactly as before (every row compared, so neither an insert nor a partial
update slips through).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from uuid import uuid4

import psycopg
import pytest

from dal import Conflict, DalError, InvalidData, ReferenceMissing, queries
from tests.community_helpers import event, now, server, snapshot, user
from tests.community_helpers import survey as draft_survey
from tests.constraint_cases import Build, Case, check, parametrize, raw
from tests.flavoured import config_store as cfg
from tests.flavoured import events, moods, recommendations, servers, surveys

pytestmark = pytest.mark.flavours

Conn = psycopg.Connection[Any]


def _open_question(conn: Conn) -> surveys.Question:
    survey = surveys.publish(conn, draft_survey(conn).id)
    return surveys.add_question(conn, survey.id, position=1, kind="text", prompt="Thoughts?")


def _recommend(conn: Conn, **extra: Any) -> recommendations.Recommendation:
    fields: dict[str, Any] = {"kind": "music", "content": "A calm playlist", "relevance_score": 0.5}
    return recommendations.create(conn, user(conn).id, **(fields | extra))


def _linked_recommendation(conn: Conn) -> recommendations.Recommendation:
    person = user(conn)
    mood = moods.record(conn, person.id, mood="anxious", intensity=6)
    return recommendations.create(
        conn,
        person.id,
        kind="breathing",
        content="Box breathing",
        relevance_score=0.7,
        mood=(mood.id, mood.recorded_at),
    )


# --- configuration ---------------------------------------------------------------


def _new_config_long_description(conn: Conn) -> Callable[[], object]:
    return lambda: cfg.set(conn, "mail.sender", "team@example.com", description="d" * 1001)


def _changed_config_long_description(conn: Conn) -> Callable[[], object]:
    cfg.set(conn, "mail.sender", "team@example.com", description="From header")
    # The value must not change either: the upsert is one statement.
    return lambda: cfg.set(conn, "mail.sender", "other@example.com", description="d" * 1001)


def _new_flag_long_description(conn: Conn) -> Callable[[], object]:
    return lambda: cfg.set_flag(conn, "new-ui", enabled=True, description="d" * 1001)


def _changed_flag_long_description(conn: Conn) -> Callable[[], object]:
    cfg.set_flag(conn, "new-ui", enabled=False, rollout_percentage=10, description="New UI")
    return lambda: cfg.set_flag(
        conn, "new-ui", enabled=True, rollout_percentage=50, description="d" * 1001
    )


# --- community ---------------------------------------------------------------------


def _survey_long_description(conn: Conn) -> Callable[[], object]:
    return lambda: draft_survey(conn, description="d" * 10001)


def _blank_prompt(conn: Conn) -> Callable[[], object]:
    survey = draft_survey(conn)
    return lambda: surveys.add_question(conn, survey.id, position=1, kind="text", prompt="  ")


def _long_prompt(conn: Conn) -> Callable[[], object]:
    survey = draft_survey(conn)
    return lambda: surveys.add_question(conn, survey.id, position=1, kind="text", prompt="p" * 1001)


def _survey_bad_status(conn: Conn) -> Callable[[], object]:
    # The DAL sets only 'published' or 'cancelled' (publish / cancel): the named query is
    # the only way to hand the column another value.
    survey = draft_survey(conn)
    return lambda: queries.execute(
        conn, "surveys.set_status", {"id": survey.id, "status": "archived"}
    )


def _survey_made_named(conn: Conn) -> Callable[[], object]:
    # No DAL function changes `anonymous`; the trigger guards every other writer.
    survey = draft_survey(conn, anonymous=True)
    return raw(conn, "UPDATE surveys SET anonymous = false WHERE id = %s", [survey.id])


def _member_role_set_to_king(conn: Conn) -> Callable[[], object]:
    srv, member = server(conn), user(conn)
    servers.add_member(conn, srv.id, member.id, "moderator")
    params = {"server_id": srv.id, "user_id": member.id, "role": "king"}
    return lambda: queries.execute(conn, "servers.set_member_role", params)


def _member_added_as_king(conn: Conn) -> Callable[[], object]:
    srv, newcomer = server(conn), user(conn)
    params = {"server_id": srv.id, "user_id": newcomer.id, "role": "king"}
    return lambda: queries.execute(conn, "servers.add_member", params)


def _second_owner_by_promotion(conn: Conn) -> Callable[[], object]:
    srv, member = server(conn), user(conn)
    servers.add_member(conn, srv.id, member.id)
    params = {"server_id": srv.id, "user_id": member.id, "role": "owner"}
    return lambda: queries.execute(conn, "servers.set_member_role", params)


def _second_owner_by_joining(conn: Conn) -> Callable[[], object]:
    srv, newcomer = server(conn), user(conn)
    params = {"server_id": srv.id, "user_id": newcomer.id, "role": "owner"}
    return lambda: queries.execute(conn, "servers.add_member", params)


def _rsvp_from_nobody(conn: Conn) -> Callable[[], object]:
    ev = event(conn, server(conn), capacity=3)
    return lambda: events.rsvp(conn, ev.id, uuid4(), "going")


def _event_by_nobody(conn: Conn) -> Callable[[], object]:
    srv = server(conn)
    return lambda: event(conn, srv, creator_id=uuid4())


def _member_who_is_nobody(conn: Conn) -> Callable[[], object]:
    srv = server(conn)
    return lambda: servers.add_member(conn, srv.id, uuid4(), "admin")


def _survey_in_no_server(conn: Conn) -> Callable[[], object]:
    srv = server(conn)
    return lambda: draft_survey(conn, server_id=srv.id + 1000)


def _survey_by_nobody(conn: Conn) -> Callable[[], object]:
    return lambda: draft_survey(conn, creator_id=uuid4())


def _question_in_no_survey(conn: Conn) -> Callable[[], object]:
    survey = draft_survey(conn)
    return lambda: surveys.add_question(
        conn, survey.id + 1000, position=1, kind="text", prompt="Thoughts?"
    )


def _answer_to_no_question(conn: Conn) -> Callable[[], object]:
    question, person = _open_question(conn), user(conn)
    return lambda: surveys.answer(conn, question.id + 1000, person.id, "Great")


def _answers_one_to_no_question(conn: Conn) -> Callable[[], object]:
    # answer_all is all or nothing: the valid first answer must not stay behind.
    question, person = _open_question(conn), user(conn)
    answers = {question.id: "Great", question.id + 1000: "Also great"}
    return lambda: surveys.answer_all(conn, person.id, answers)


def _answer_from_nobody(conn: Conn) -> Callable[[], object]:
    question = _open_question(conn)
    return lambda: surveys.answer(conn, question.id, uuid4(), "Great")


# --- wellbeing ---------------------------------------------------------------------


def _recommendation_for_nobody(conn: Conn) -> Callable[[], object]:
    return lambda: recommendations.create(
        conn, uuid4(), kind="music", content="A calm playlist", relevance_score=0.5
    )


def _dismissed_without_time(conn: Conn) -> Callable[[], object]:
    # dismiss() sets both columns in one UPDATE; only another writer can split them.
    rec = _recommend(conn)
    return raw(conn, "UPDATE recommendations SET dismissed = true WHERE id = %s", [rec.id])


def _undismissed_keeping_time(conn: Conn) -> Callable[[], object]:
    rec = _recommend(conn)
    recommendations.dismiss(conn, rec.user_id, rec.id)
    return raw(conn, "UPDATE recommendations SET dismissed = false WHERE id = %s", [rec.id])


def _mood_ref_loses_its_time(conn: Conn) -> Callable[[], object]:
    # create() copies both key columns from the mood row; only another writer can split them.
    rec = _linked_recommendation(conn)
    return raw(conn, "UPDATE recommendations SET mood_recorded_at = NULL WHERE id = %s", [rec.id])


def _mood_ref_without_time(conn: Conn) -> Callable[[], object]:
    person = user(conn)
    return raw(
        conn,
        "INSERT INTO recommendations (user_id, mood_id, kind, content, relevance_score)"
        " VALUES (%s, 1, 'music', 'A calm playlist', 0.5)",
        [person.id],
    )


CASES: list[Case] = [
    # CHECK -> InvalidData
    ("app_config", InvalidData, "app_config_description_length", _new_config_long_description),
    ("app_config", InvalidData, "app_config_description_length", _changed_config_long_description),
    ("feature_flags", InvalidData, "feature_flags_description_length", _new_flag_long_description),
    (
        "feature_flags",
        InvalidData,
        "feature_flags_description_length",
        _changed_flag_long_description,
    ),
    ("surveys", InvalidData, "surveys_description_length", _survey_long_description),
    ("survey_questions", InvalidData, "survey_questions_prompt_length", _blank_prompt),
    ("survey_questions", InvalidData, "survey_questions_prompt_length", _long_prompt),
    ("surveys", InvalidData, "surveys_status_valid", _survey_bad_status),
    ("surveys", InvalidData, "surveys_anonymity_irreversible", _survey_made_named),
    ("server_members", InvalidData, "server_members_role_valid", _member_role_set_to_king),
    ("server_members", InvalidData, "server_members_role_valid", _member_added_as_king),
    (
        "recommendations",
        InvalidData,
        "recommendations_dismissed_at_matches",
        _dismissed_without_time,
    ),
    (
        "recommendations",
        InvalidData,
        "recommendations_dismissed_at_matches",
        _undismissed_keeping_time,
    ),
    ("recommendations", InvalidData, "recommendations_mood_ref_complete", _mood_ref_loses_its_time),
    ("recommendations", InvalidData, "recommendations_mood_ref_complete", _mood_ref_without_time),
    # unique -> Conflict
    ("server_members", Conflict, "server_members_one_owner_key", _second_owner_by_promotion),
    ("server_members", Conflict, "server_members_one_owner_key", _second_owner_by_joining),
    # FK to nothing -> ReferenceMissing
    # events too: the trigger's "going" counter on the event must not move either.
    (("event_rsvps", "events"), ReferenceMissing, "event_rsvps_user_id_fkey", _rsvp_from_nobody),
    ("events", ReferenceMissing, "events_creator_id_fkey", _event_by_nobody),
    ("server_members", ReferenceMissing, "server_members_user_id_fkey", _member_who_is_nobody),
    ("surveys", ReferenceMissing, "surveys_server_id_fkey", _survey_in_no_server),
    ("surveys", ReferenceMissing, "surveys_creator_id_fkey", _survey_by_nobody),
    (
        "survey_questions",
        ReferenceMissing,
        "survey_questions_survey_id_fkey",
        _question_in_no_survey,
    ),
    (
        "survey_responses",
        ReferenceMissing,
        "survey_responses_question_id_fkey",
        _answer_to_no_question,
    ),
    (
        "survey_responses",
        ReferenceMissing,
        "survey_responses_question_id_fkey",
        _answers_one_to_no_question,
    ),
    ("survey_responses", ReferenceMissing, "survey_responses_user_id_fkey", _answer_from_nobody),
    (
        "recommendations",
        ReferenceMissing,
        "recommendations_user_id_fkey",
        _recommendation_for_nobody,
    ),
]


@parametrize(CASES)
def test_constraint_is_typed_and_writes_nothing(
    conn: Conn,
    tables: str | tuple[str, ...],
    error: type[DalError],
    constraint: str,
    build: Build,
) -> None:
    check(conn, tables, error, constraint, build)


@pytest.mark.parametrize("role", ["king", "owner"])
def test_dal_refuses_a_role_before_the_database_sees_it(conn: Conn, role: str) -> None:
    """add_member / set_role validate the role themselves ("owner" comes only with
    ownership), so the CHECK and the one-owner index above are reached only by raw writes."""
    srv, member, newcomer = server(conn), user(conn), user(conn)
    servers.add_member(conn, srv.id, member.id, "moderator")
    before = snapshot(conn, "server_members")
    attempts: list[Callable[[], object]] = [
        lambda: servers.add_member(conn, srv.id, newcomer.id, role),
        lambda: servers.add_member(conn, srv.id, member.id, role),
        lambda: servers.set_role(conn, srv.id, member.id, role),
    ]
    for attempt in attempts:
        with pytest.raises(InvalidData) as caught:
            attempt()
        assert (caught.value.column, caught.value.constraint) == ("role", None)
        assert caught.value.__cause__ is None  # refused in Python: no statement ran
    assert snapshot(conn, "server_members") == before
    assert servers.get_member(conn, srv.id, member.id).role == "moderator"


def test_values_json_cannot_hold_are_invalid_data_before_any_statement(conn: Conn) -> None:
    srv, someone = server(conn), user(conn)
    start = now()
    survey = surveys.create(
        conn, server_id=srv.id, title="s", opens_at=start, closes_at=start + timedelta(days=1)
    )
    question = surveys.add_question(conn, survey.id, position=1, kind="text", prompt="Why?")
    mood = moods.record(conn, someone.id, mood="calm", intensity=5)
    tables = ("survey_questions", "survey_responses", "app_config", "user_settings")
    before = snapshot(conn, *tables)
    attempts: list[tuple[str, Callable[[], object]]] = [
        ("answer", lambda: surveys.answer(conn, question.id, someone.id, {1, 2})),
        ("value", lambda: cfg.set(conn, "ui.ratio", float("nan"))),
        ("value", lambda: cfg.set_user_setting(conn, someone.id, "theme", object())),
        (
            "mood",
            lambda: recommendations.create(
                conn,
                someone.id,
                kind="breathing",
                content="x",
                relevance_score=0.5,
                mood=(mood.id,),  # type: ignore[arg-type]
            ),
        ),
    ]
    for column, attempt in attempts:
        with pytest.raises(InvalidData) as caught:
            attempt()
        assert caught.value.column == column
        assert caught.value.__cause__ is None  # refused in Python: no statement ran
    assert snapshot(conn, *tables) == before
    assert recommendations.active(conn, someone.id) == []
