"""A small web service on the DAL: users, projects and tasks over HTTP (FastAPI).

The way to use the DAL from a service:

- one async pool per process, opened in the app's lifespan and closed with it;
- each request acts for its user (here the `X-User-Id` header; a real service takes
  it from its session), so row-level security decides what the request may see;
- the DAL's typed errors become HTTP statuses in one place (`STATUSES`).

Run it (with DATABASE_URL set, the schema migrated, as the application role):

    uvicorn docs.examples.service:app
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import FastAPI, Header, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

import dal
from dal import aio
from dal.pagination import Page

# Most specific first: a StillReferenced is a Conflict, a PoolExhausted Unavailable.
STATUSES: tuple[tuple[type[dal.DalError], int], ...] = (
    (dal.NotFound, 404),
    (dal.PermissionDenied, 403),
    (dal.Conflict, 409),
    (dal.InvalidData, 422),
    (dal.ReferenceMissing, 422),
    (dal.Unavailable, 503),
)


def create_app(settings: dal.Settings | None = None) -> FastAPI:
    """The service, on the database `settings` (default: from the environment) names."""
    chosen = settings or dal.Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with await aio.open_pool(dal.resolve_conninfo(chosen), chosen) as pool:
            app.state.pool = pool
            yield

    app = FastAPI(title="dal example service", lifespan=lifespan)

    @app.exception_handler(dal.DalError)
    async def refused(request: Request, exc: dal.DalError) -> JSONResponse:
        status = next((code for kind, code in STATUSES if isinstance(exc, kind)), 500)
        body = {"error": type(exc).__name__, "message": exc.message}
        if exc.constraint:
            body["constraint"] = exc.constraint
        return JSONResponse(body, status_code=status)

    _users(app)
    _projects(app)
    _tasks(app)
    return app


Caller = Annotated[UUID | None, Header(alias="X-User-Id")]  # None: no header sent


@contextmanager
def acting(caller: UUID | None) -> Iterator[None]:
    """The request's DAL calls on behalf of `caller` (row-level security)."""
    if caller is None:
        yield
        return
    with dal.acting_as(caller):
        yield


def _page(page: Page[Any]) -> dict[str, Any]:
    return {"items": [row.to_dict() for row in page.items], "next_cursor": page.next_cursor}


class NewUser(BaseModel):
    """The body of POST /users."""

    email: str
    username: str
    password: str | None = None
    display_name: str | None = None


class UserChange(BaseModel):
    """The body of PATCH /users/{id}: only the fields sent change."""

    email: str | None = None
    username: str | None = None
    display_name: str | None = None


def _users(app: FastAPI) -> None:
    @app.post("/users", status_code=201)
    async def create_user(body: NewUser, request: Request) -> Any:
        user = await aio.users.create(request.app.state.pool, **body.model_dump())
        return user.to_dict()

    @app.get("/users/{user_id}")
    async def get_user(user_id: UUID, request: Request) -> Any:
        return (await aio.users.get(request.app.state.pool, user_id)).to_dict()

    @app.patch("/users/{user_id}")
    async def update_user(user_id: UUID, body: UserChange, request: Request) -> Any:
        changes = body.model_dump(exclude_unset=True)
        return (await aio.users.update(request.app.state.pool, user_id, **changes)).to_dict()

    @app.delete("/users/{user_id}", status_code=204)
    async def delete_user(user_id: UUID, request: Request) -> Response:
        await aio.users.hard_delete(request.app.state.pool, user_id)
        return Response(status_code=204)

    @app.get("/users")
    async def list_users(
        request: Request, cursor: str | None = None, limit: int = 50
    ) -> dict[str, Any]:
        pool = request.app.state.pool
        return _page(await aio.users.list_page(pool, cursor=cursor, limit=limit))


class NewProject(BaseModel):
    """The body of POST /projects: the caller owns the project."""

    name: str
    git_url: str | None = None


class ProjectChange(BaseModel):
    """The body of PATCH /projects/{id}."""

    name: str | None = None
    git_url: str | None = None


def _projects(app: FastAPI) -> None:
    @app.post("/projects", status_code=201)
    async def create_project(body: NewProject, request: Request, caller: Caller = None) -> Any:
        if caller is None:
            raise dal.PermissionDenied("a project needs an owner: send X-User-Id")
        with acting(caller):
            pool = request.app.state.pool
            return (await aio.projects.create(pool, owner_id=caller, **body.model_dump())).to_dict()

    @app.get("/projects/{project_id}")
    async def get_project(project_id: UUID, request: Request, caller: Caller = None) -> Any:
        with acting(caller):
            return (await aio.projects.get(request.app.state.pool, project_id)).to_dict()

    @app.patch("/projects/{project_id}")
    async def update_project(
        project_id: UUID, body: ProjectChange, request: Request, caller: Caller = None
    ) -> Any:
        with acting(caller):
            changes = body.model_dump(exclude_unset=True)
            project = await aio.projects.update(request.app.state.pool, project_id, **changes)
            return project.to_dict()

    @app.delete("/projects/{project_id}", status_code=204)
    async def delete_project(project_id: UUID, request: Request, caller: Caller = None) -> Response:
        with acting(caller):
            await aio.projects.delete(request.app.state.pool, project_id)
        return Response(status_code=204)

    @app.get("/projects")
    async def list_projects(
        request: Request, caller: Caller = None, cursor: str | None = None, limit: int = 50
    ) -> Any:
        if caller is None:
            raise dal.PermissionDenied("whose projects? send X-User-Id")
        with acting(caller):
            pool = request.app.state.pool
            return _page(await aio.projects.list_for_user(pool, caller, cursor=cursor, limit=limit))


class NewTask(BaseModel):
    """The body of POST /tasks: the caller owns the task."""

    title: str
    project_id: UUID | None = None
    description: str | None = None
    status: str = "pending"
    priority: str = "medium"
    due_at: datetime | None = None


class TaskChange(BaseModel):
    """The body of PATCH /tasks/{id}; `expected_version` makes it a compare-and-set."""

    title: str | None = None
    description: str | None = None
    status: str | None = None
    priority: str | None = None
    due_at: datetime | None = None
    expected_version: int | None = None


def _tasks(app: FastAPI) -> None:
    @app.post("/tasks", status_code=201)
    async def create_task(body: NewTask, request: Request, caller: Caller = None) -> Any:
        if caller is None:
            raise dal.PermissionDenied("a task needs an owner: send X-User-Id")
        with acting(caller):
            task = await aio.tasks.create(
                request.app.state.pool, owner_id=caller, **body.model_dump()
            )
            return task.to_dict()

    @app.get("/tasks/{task_id}")
    async def get_task(task_id: UUID, request: Request, caller: Caller = None) -> Any:
        with acting(caller):
            return (await aio.tasks.get(request.app.state.pool, task_id)).to_dict()

    @app.patch("/tasks/{task_id}")
    async def update_task(
        task_id: UUID, body: TaskChange, request: Request, caller: Caller = None
    ) -> Any:
        with acting(caller):
            changes = body.model_dump(exclude_unset=True)
            return (await aio.tasks.update(request.app.state.pool, task_id, **changes)).to_dict()

    @app.delete("/tasks/{task_id}", status_code=204)
    async def delete_task(task_id: UUID, request: Request, caller: Caller = None) -> Response:
        with acting(caller):
            await aio.tasks.delete(request.app.state.pool, task_id)
        return Response(status_code=204)

    @app.get("/tasks")
    async def list_tasks(
        request: Request, caller: Caller = None, cursor: str | None = None, limit: int = 50
    ) -> Any:
        if caller is None:
            raise dal.PermissionDenied("whose tasks? send X-User-Id")
        with acting(caller):
            pool = request.app.state.pool
            return _page(await aio.tasks.list_for_user(pool, caller, cursor=cursor, limit=limit))


app = create_app()  # reads the settings now; connects in the lifespan
