"""Plan checks of the servers, events and surveys queries.

At the `ci` profile servers has only 50 rows (500 at `large`): one heap page,
which the planner rightly reads whole, so server point lookups are checked for
their buffers only. Everything else (members, events, RSVPs, surveys'
questions and answers) is checked for its index.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb

from benchmarks.cases.base import Case, Inner, one, same


def sample(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    """The busiest server, a plain member of it, its most answered event, the user in
    the most servers, page cursors 20 rows in, and the most answered named survey
    with its first question and one person who answered it."""
    server_id, snowflake_id = one(
        conn,
        """SELECT s.id, s.snowflake_id FROM servers s
            ORDER BY (SELECT count(*) FROM events e WHERE e.server_id = s.id) DESC, s.id
            LIMIT 1""",
    )
    (member_id,) = one(
        conn,
        """SELECT user_id FROM server_members WHERE server_id = %s AND role = 'member'
             ORDER BY user_id LIMIT 1""",
        [server_id],
    )
    event_id, response, rsvp_user_id = one(
        conn,
        """SELECT r.event_id, 'going', min(r.user_id::text)::uuid
             FROM event_rsvps r JOIN events e ON e.id = r.event_id AND e.status = 'scheduled'
            GROUP BY r.event_id ORDER BY count(*) DESC, r.event_id LIMIT 1""",
    )
    (user_id,) = one(
        conn,
        """SELECT user_id FROM server_members GROUP BY user_id
            ORDER BY count(*) DESC, user_id LIMIT 1""",
    )
    member_after = one(
        conn,
        """SELECT joined_at, user_id FROM server_members WHERE server_id = %s
            ORDER BY joined_at, user_id OFFSET 1000 LIMIT 1""",
        [server_id],
    )
    user_server_after = one(
        conn,
        """SELECT joined_at, server_id FROM server_members WHERE user_id = %s
            ORDER BY joined_at, server_id OFFSET 5 LIMIT 1""",
        [user_id],
    )
    server_after = one(
        conn,
        """SELECT starts_at, id FROM events
             WHERE server_id = %s AND status = 'scheduled' AND starts_at >= now()
             ORDER BY starts_at, id OFFSET 20 LIMIT 1""",
        [server_id],
    )
    user_after = one(
        conn,
        """SELECT e.starts_at, e.id FROM events e
             WHERE e.status = 'scheduled' AND e.starts_at >= now()
               AND e.server_id IN (SELECT server_id FROM server_members WHERE user_id = %s)
             ORDER BY e.starts_at, e.id OFFSET 20 LIMIT 1""",
        [user_id],
    )
    (survey_id,) = one(
        conn,
        """SELECT q.survey_id FROM survey_questions q
             JOIN surveys s ON s.id = q.survey_id AND NOT s.anonymous
             JOIN survey_responses r ON r.question_id = q.id
            GROUP BY q.survey_id ORDER BY count(*) DESC, q.survey_id LIMIT 1""",
    )
    (question_id,) = one(
        conn,
        "SELECT min(id) FROM survey_questions WHERE survey_id = %s",
        [survey_id],
    )
    (respondent_id,) = one(
        conn,
        "SELECT min(user_id::text)::uuid FROM survey_responses WHERE question_id = %s",
        [question_id],
    )
    return {
        "community_server_id": server_id,
        "community_snowflake_id": snowflake_id,
        "community_member_id": member_id,
        "community_member_after": member_after,
        "community_user_server_after": user_server_after,
        "community_event_id": event_id,
        "community_rsvp_user_id": rsvp_user_id,
        "community_response": response,
        "community_user_id": user_id,
        "community_server_after": server_after,
        "community_user_after": user_after,
        "community_survey_id": survey_id,
        "community_question_id": question_id,
        "community_respondent_id": respondent_id,
    }


def _server(s: Any) -> dict[str, Any]:
    return {"id": s["community_server_id"]}


def _membership(s: Any) -> dict[str, Any]:
    return {"server_id": s["community_server_id"], "user_id": s["community_member_id"]}


def _survey(s: Any) -> dict[str, Any]:
    return {"survey_id": s["community_survey_id"]}


def _unchanged(*fields: str) -> dict[str, Any]:
    """Parameters of a partial update that gives none of `fields`: the plan is the same."""
    return {f"set_{f}": False for f in fields} | dict.fromkeys(fields)


# Nobody: an UPDATE of an existing answer would fire the answer trigger, which refuses
# it (the sampled survey's window is past); the plan finds no row the same way.
NOBODY = UUID(int=0)


PAGE = 51  # the DAL asks for one row more than a page of 50
# A membership by (server, user): the key, or the user's join-order index, which holds
# every column of a membership, so the planner may read the user's few memberships
# there index-only rather than the key and the heap (the buffer bound holds it to few).
MEMBER_KEY = "server_members_pkey|server_members_user_id_joined_at_idx"
# Pair tables index both (a, b) and (b, a): for a lookup by both columns either is right.
RSVP_KEY = "event_rsvps_pkey|event_rsvps_user_id_idx"
# PostgreSQL 18 may also find one (event, user) answer by skip scan of the attendee index.
RSVP_PROBE = f"{RSVP_KEY}|event_rsvps_event_id_response_idx"
EVENT_KEY = "events_pkey|events_id_server_id_key"  # (id) and (id, server_id): both unique
# Full-text search runs in this SECURITY DEFINER function (migration 0053: under
# row-level security @@, not leakproof, could not use the GIN index). A search query
# itself reads its hits' events by key; the function's statements are checked as
# Inner ones.
SEARCH = "dal_search_events(tsquery,bigint,integer)"
USER_SERVERS = "server_members_user_id_joined_at_idx"
USER_UPCOMING = (USER_SERVERS, "events_server_id_status_starts_at_idx", RSVP_PROBE)

CASES: dict[str, Case] = {
    # servers: tiny at ci (one page, read whole: see the module doc); members by key
    "servers.get_by_id": Case(_server, (), 4),
    # the row lock reads the row again: a pkey probe, the page, and at `large` one
    # more pkey level
    "servers.lock_by_id": Case(_server, (), 8),
    "servers.get_by_snowflake_id": Case(
        lambda s: {"snowflake_id": s["community_snowflake_id"]}, (), 4
    ),
    "servers.rename": Case(lambda s: {**_server(s), "name": "Renamed"}, (), 24),
    # An owner change or a role change is a new row version with an entry in every
    # index of the table (the owner and the role are indexed: no HOT update), each a
    # level deeper at `large`: 26 and 29 buffers there.
    "servers.set_owner": Case(
        lambda s: {**_server(s), "owner_id": s["community_member_id"]}, (), 32
    ),
    "servers.get_member": Case(_membership, (MEMBER_KEY,), 8),
    "servers.set_member_role": Case(
        lambda s: {**_membership(s), "role": "moderator"}, (MEMBER_KEY,), 24
    ),
    "servers.change_member_role": Case(
        lambda s: {**_membership(s), "role": "moderator"}, (MEMBER_KEY,), 36
    ),
    "servers.remove_member": Case(_membership, (MEMBER_KEY,), 24),
    "servers.list_members_first_page": Case(
        lambda s: {"server_id": s["community_server_id"], "limit": PAGE},
        ("server_members_server_id_joined_at_idx",),
        64,  # a page of the busiest server's members, in index order, one heap page each
    ),
    "servers.list_members_after": Case(
        lambda s: {
            "server_id": s["community_server_id"],
            "after_joined_at": s["community_member_after"][0],
            "after_user_id": s["community_member_after"][1],
            "limit": PAGE,
        },
        ("server_members_server_id_joined_at_idx",),
        64,
    ),
    "servers.list_for_user_first_page": Case(
        lambda s: {"user_id": s["community_user_id"], "limit": PAGE},
        (USER_SERVERS,),
        # The page of memberships index-only and in order, then servers (a few pages,
        # read whole by a hash join), and the page itself sorted again after the join
        # (51 rows: the extra one says that a next page exists).
        24,
        max_sort_rows=PAGE,
        # Under row-level security the planner may probe servers by key for each row of
        # the page instead (three buffers each): 169 at `large`.
        rls_max_buffers=200,
    ),
    "servers.list_for_user_after": Case(
        lambda s: {
            "user_id": s["community_user_id"],
            "after_joined_at": s["community_user_server_after"][0],
            "after_server_id": s["community_user_server_after"][1],
            "limit": PAGE,
        },
        (USER_SERVERS,),
        24,
        max_sort_rows=PAGE,
        rls_max_buffers=200,
    ),
    # events
    "events.get_by_id": Case(lambda s: {"id": s["community_event_id"]}, (EVENT_KEY,), 8),
    "events.get_many": Case(lambda s: {"ids": [s["community_event_id"]]}, (EVENT_KEY,), 8),
    "events.update": Case(
        lambda s: {
            "id": s["community_event_id"],
            **{
                f"set_{f}": False
                for f in (
                    "title",
                    "description",
                    "starts_at",
                    "ends_at",
                    "location",
                    "capacity",
                    "status",
                )
            },
            **dict.fromkeys(
                ("title", "description", "starts_at", "ends_at", "location", "capacity", "status")
            ),
        },
        (EVENT_KEY,),
        80,  # the new row version's entries in every index (incl. the GIN one)
    ),
    "events.upcoming_for_server_first_page": Case(
        lambda s: {"server_id": s["community_server_id"], "limit": PAGE},
        ("events_server_id_status_starts_at_idx",),
        64,  # 51 heap rows, one page each at worst, plus the index path
    ),
    "events.upcoming_for_server_after": Case(
        lambda s: {
            "server_id": s["community_server_id"],
            "after_starts_at": s["community_server_after"][0],
            "after_id": s["community_server_after"][1],
            "limit": PAGE,
        },
        ("events_server_id_status_starts_at_idx",),
        64,
    ),
    "events.upcoming_for_user_first_page": Case(
        lambda s: {"user_id": s["community_user_id"], "limit": PAGE},
        USER_UPCOMING,
        # ~11 servers x a few index-only pages for the keys, then 51 events and 51 RSVP
        # probes by key (3 pages each)
        320,
        # Each server gives at most a page of keys and a top-N keeps the soonest page:
        # no index orders several servers' events, so the sort takes servers x 51 keys
        # (11 servers for this user: 561), whatever the number of events.
        max_sort_rows=600,
        grows_with_data=True,
    ),
    "events.upcoming_for_user_after": Case(
        lambda s: {
            "user_id": s["community_user_id"],
            "after_starts_at": s["community_user_after"][0],
            "after_id": s["community_user_after"][1],
            "limit": PAGE,
        },
        USER_UPCOMING,
        320,
        max_sort_rows=600,
        grows_with_data=True,
    ),
    # Full-text search runs in dal_search_events (SECURITY DEFINER: under row-level
    # security @@, not leakproof, could not use the GIN index; migration 0053). The
    # query itself reads the 20 hits' events by key; the function's statement is
    # checked on its own (Inner).
    "events.search": Case(
        same({"query": "python workshop", "limit": 20}),
        (EVENT_KEY,),
        # the function's work (below) plus the 20 hits' events by key
        180,
        grows_with_data=True,
        inner=(
            # a session that reads every row (here: the superuser of test_plan)
            Inner(
                SEARCH,
                0,
                "SELECT websearch_to_tsquery('english', %(query)s), %(limit)s",
                ("events_search_idx",),
                # GIN posting lists of both words plus the matching events' heap pages
                120,
                # Ranking is inherent to full-text search: every match is ranked before
                # the LIMIT (no index yields ts_rank order). Two words match ~40 events
                # at ci.
                max_sort_rows=100,
                grows_with_data=True,
            ),
            # acting for a user: their servers' matches
            Inner(
                SEARCH,
                1,
                "SELECT websearch_to_tsquery('english', %(query)s), dal_search_servers(NULL),"
                " %(limit)s",
                ("events_search_idx",),
                # as above, and the entries of the user's servers in the server index
                # where the planner ANDs their bitmaps
                160,
                max_sort_rows=100,
                grows_with_data=True,
            ),
        ),
    ),
    "events.search_in_server": Case(
        lambda s: {"query": "python", "server_id": s["community_server_id"], "limit": 20},
        (EVENT_KEY,),
        200,
        grows_with_data=True,
        inner=(
            Inner(
                SEARCH,
                1,
                "SELECT websearch_to_tsquery('english', %(query)s),"
                " dal_search_servers(%(server_id)s), %(limit)s",
                ("events_search_idx",),
                # the bitmaps of one word and of the server, and the heap pages they hit
                150,
                # Every match in the server is ranked (inherent, as above): one common
                # word in the busiest server matches ~140 events at ci.
                max_sort_rows=300,
                grows_with_data=True,
            ),
        ),
    ),
    "events.upsert_rsvp": Case(
        lambda s: {
            "event_id": s["community_event_id"],
            "user_id": s["community_rsvp_user_id"],
            "response": "maybe",
        },
        (),  # the arbiter index event_rsvps_pkey is no plan node
        60,  # conflict check, the row's index entries and the trigger's event lookup
    ),
    "events.delete_rsvp": Case(
        lambda s: {"event_id": s["community_event_id"], "user_id": s["community_rsvp_user_id"]},
        (RSVP_KEY,),
        24,
    ),
    "events.list_rsvps_first_page": Case(
        lambda s: {
            "event_id": s["community_event_id"],
            "response": s["community_response"],
            "limit": 51,
        },
        ("event_rsvps_event_id_response_idx",),
        # a page of one event's "going" list, in index order
        24,
    ),
    "events.list_rsvps_after": Case(
        lambda s: {
            "event_id": s["community_event_id"],
            "response": s["community_response"],
            "after_responded_at": datetime(2000, 1, 1, tzinfo=UTC),
            "after_user_id": UUID(int=0),
            "limit": 51,
        },
        ("event_rsvps_event_id_response_idx",),
        24,
    ),
    "events.count_rsvps": Case(
        lambda s: {"event_id": s["community_event_id"]},
        ("event_rsvps_event_id_response_idx",),
        24,  # index-only over one event's answers (a few hundred entries at most)
    ),
    # surveys
    "surveys.get_by_id": Case(lambda s: {"id": s["community_survey_id"]}, (), 8),
    "surveys.results_access": Case(lambda s: {"id": s["community_survey_id"]}, (), 8),
    "surveys.set_status": Case(
        # the row by key, its status-move trigger, and where the row's page is full (no
        # HOT update) the new version's entries in the four indexes: 46 buffers at `large`
        lambda s: {"id": s["community_survey_id"], "status": "published"},
        (),
        56,
    ),
    "surveys.set_window": Case(
        lambda s: {
            "id": s["community_survey_id"],
            "opens_at": "2025-01-01T00:00:00Z",
            "closes_at": "2025-02-01T00:00:00Z",
        },
        (),
        24,
    ),
    "surveys.update": Case(
        lambda s: {"id": s["community_survey_id"], **_unchanged("title", "description")},
        (),
        40,  # like set_status: the new row version's index entries
    ),
    "surveys.list_for_server": Case(
        lambda s: {"server_id": s["community_server_id"], "limit": PAGE},
        ("surveys_server_id_opens_at_idx",),
        64,  # 51 heap rows, one page each at worst, plus the index path
    ),
    "surveys.list_questions": Case(
        _survey,
        ("survey_questions_survey_id_position_key",),
        8,
        # the policy probes each question's survey (surveys_pkey), under that one's policy
        rls_max_buffers=40,
    ),
    "surveys.get_question": Case(
        lambda s: {"id": s["community_question_id"]}, ("survey_questions_pkey",), 8
    ),
    "surveys.lock_question": Case(
        lambda s: {"id": s["community_question_id"]},
        ("survey_questions_pkey",),
        8,
        rls_max_buffers=40,  # the question's survey, probed by the read and lock policies
    ),
    "surveys.update_question": Case(
        lambda s: {
            "id": s["community_question_id"],
            **_unchanged("position", "kind", "prompt", "options"),
        },
        # the question by key, and the first entry of its answers (there is one: no update)
        ("survey_questions_pkey", "survey_responses_pkey"),
        24,
    ),
    "surveys.update_response": Case(
        lambda s: {
            "question_id": s["community_question_id"],
            "user_id": NOBODY,
            "answer": Jsonb("yes"),
        },
        ("survey_responses_pkey",),
        24,
    ),
    "surveys.delete_response": Case(
        lambda s: {
            "question_id": s["community_question_id"],
            "user_id": s["community_respondent_id"],
        },
        # the question and its survey by key (locked, in dal_lock_question_survey,
        # whose own plan is made on its first call in a session), then the answer
        ("survey_questions_pkey", "survey_responses_pkey"),
        64,
    ),
    "surveys.list_named_responses": Case(
        _survey,
        ("survey_questions_survey_id_position_key", "survey_responses_pkey"),
        # every answer of the survey: at most 40 respondents x 6 questions here
        300,
        # The DAL returns the whole survey ordered by question then time: answers of
        # several questions interleave, so no index order exists; bounded by the answers.
        max_sort_rows=240,
    ),
    "surveys.question_totals": Case(
        _survey,
        ("survey_questions_survey_id_position_key", "survey_responses_pkey"),
        300,  # reads every answer of the survey (<= 240): an aggregate over all of them
        # under row-level security the planner may hash the answers and sort the
        # groups: an aggregate over the survey's answers either way
        rls_max_sort_rows=300,
    ),
    "surveys.option_counts": Case(
        _survey,
        ("survey_questions_survey_id_position_key", "survey_responses_pkey"),
        300,
        # grouping (question, option) pairs joined to the answers that picked them:
        # an aggregate over the survey's answers, no index order to use
        max_sort_rows=400,
    ),
}

EXEMPT: dict[str, str] = {
    "servers.insert": "a single-row INSERT: no read path to plan",
    "servers.delete": "deletes by primary key; its cost is the cascades, which EXPLAIN hides",
    "servers.add_member": "a single-row INSERT ... ON CONFLICT on server_members_pkey",
    "events.insert": "a single-row INSERT: no read path to plan",
    "events.delete": "deletes by primary key; its cost is the cascades, which EXPLAIN hides",
    "surveys.insert": "a single-row INSERT: no read path to plan",
    "surveys.delete": "deletes by primary key; its cost is the cascades, which EXPLAIN hides",
    "surveys.insert_question": "a single-row INSERT: no read path to plan",
    "surveys.delete_question": "deletes by primary key; answers cascade by their primary key",
    "surveys.insert_response": "a single-row INSERT (its trigger reads two rows by key)",
}
