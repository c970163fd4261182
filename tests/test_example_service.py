"""The example service (docs/examples/service.py) driven over HTTP through an ASGI
client, against a real PostgreSQL, as the application role (row-level security on)."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from dal.config import PROJECT_ROOT, Roles, Settings
from tests.fix_db import as_role

SOURCE = PROJECT_ROOT / "docs" / "examples" / "service.py"


def _service() -> Any:
    spec = importlib.util.spec_from_file_location("example_service", SOURCE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # pydantic resolves the models' annotations there
    spec.loader.exec_module(module)
    return module


def test_the_service_maps_the_dals_answers_to_http(db_url: str) -> None:
    service = _service()
    settings = Settings(database_url=as_role(db_url, Roles.app), pool_size=2, max_overflow=0)
    app = service.create_app(settings)

    async def scenario() -> None:
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://service") as client,
        ):
            await _drive(client, app)

    asyncio.run(scenario())


async def _drive(client: httpx.AsyncClient, app: Any) -> None:
    made = await client.post("/users", json={"email": "ada@example.com", "username": "ada"})
    assert made.status_code == 201, made.text
    ada = made.json()
    assert "password_hash" not in ada
    bob = (await client.post("/users", json={"email": "bob@example.com", "username": "bob"})).json()
    again = await client.post("/users", json={"email": "ADA@example.com", "username": "ada2"})
    assert again.status_code == 409
    assert again.json()["constraint"] == "users_email_lower_key"
    bad = await client.post("/users", json={"email": "not-an-email", "username": "carl"})
    assert bad.status_code == 422 and bad.json()["constraint"] == "users_email_format"
    assert (await client.get(f"/users/{ada['id']}")).json()["username"] == "ada"
    assert (await client.get("/users/00000000-0000-0000-0000-000000000000")).status_code == 404
    renamed = await client.patch(f"/users/{ada['id']}", json={"display_name": "Ada L."})
    assert renamed.json()["display_name"] == "Ada L."

    as_ada, as_bob = {"X-User-Id": ada["id"]}, {"X-User-Id": bob["id"]}
    project = await client.post("/projects", json={"name": "Engine"}, headers=as_ada)
    assert project.status_code == 201, project.text
    project_id = project.json()["id"]
    assert (await client.get(f"/projects/{project_id}", headers=as_bob)).status_code == 404
    other = await client.post("/projects", json={"name": "Docs"}, headers=as_ada)
    first_page = (await client.get("/projects", params={"limit": 1}, headers=as_ada)).json()
    assert [p["id"] for p in first_page["items"]] == [project_id]
    assert first_page["items"][0]["role"] == "owner"
    after = {"limit": 1, "cursor": first_page["next_cursor"]}
    second_page = (await client.get("/projects", params=after, headers=as_ada)).json()
    assert [p["id"] for p in second_page["items"]] == [other.json()["id"]]
    assert second_page["next_cursor"] is None
    assert (await client.get("/projects", headers=as_bob)).json()["items"] == []
    assert (await client.get("/projects")).status_code == 403  # whose projects?
    assert (await client.post("/tasks", json={"title": "x"})).status_code == 403  # whose task?
    forged = await client.get("/projects", params={"cursor": "x"}, headers=as_ada)
    assert forged.status_code == 422

    ids = []
    for n in range(3):
        task = await client.post(
            "/tasks", json={"title": f"Step {n}", "project_id": project_id}, headers=as_ada
        )
        assert task.status_code == 201, task.text
        ids.append(task.json()["id"])
    wrong = await client.post("/tasks", json={"title": "x", "status": "someday"}, headers=as_ada)
    assert wrong.status_code == 422 and wrong.json()["constraint"] == "tasks_status_valid"
    first = await client.get(f"/tasks/{ids[0]}", headers=as_ada)
    assert first.status_code == 200
    assert (await client.get(f"/tasks/{ids[0]}", headers=as_bob)).status_code == 404  # RLS
    stale = await client.patch(
        f"/tasks/{ids[0]}", json={"title": "Later", "expected_version": 99}, headers=as_ada
    )
    assert stale.status_code == 409
    done = await client.patch(f"/tasks/{ids[0]}", json={"status": "done"}, headers=as_ada)
    assert done.json()["status"] == "done"

    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/tasks", params=params, headers=as_ada)).json()
        seen += [task["id"] for task in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids)
    assert (await client.get("/tasks", params={"limit": 0}, headers=as_ada)).status_code == 422

    assert (await client.delete(f"/tasks/{ids[1]}", headers=as_ada)).status_code == 204
    assert (await client.get(f"/tasks/{ids[1]}", headers=as_ada)).status_code == 404
    assert (await client.delete(f"/projects/{project_id}", headers=as_bob)).status_code == 404
    assert (await client.delete(f"/projects/{project_id}", headers=as_ada)).status_code == 204

    await app.state.pool.close()  # the database gone from under the service
    gone = await client.get(f"/users/{ada['id']}")
    assert gone.status_code == 503, gone.text


@pytest.mark.parametrize("path", [SOURCE])
def test_the_readme_links_the_example(path: Path) -> None:
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert "docs/examples/service.py" in readme and path.is_file()
