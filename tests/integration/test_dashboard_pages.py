"""The dashboard's pages through Starlette's TestClient, on a real database."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import psycopg
import pytest
from starlette.testclient import TestClient

from goodjob_pg import db
from goodjob_pg.dashboard import create_app
from goodjob_pg.registry import App


@pytest.fixture
def gj_app(db_url: str) -> Iterator[App]:
    app = App(database_url=db_url)
    yield app
    app.close()


@pytest.fixture
def client(gj_app: App) -> Iterator[TestClient]:
    with TestClient(create_app(gj_app, secret="test-secret")) as c:
        yield c


def enqueue(conn: psycopg.Connection[Any], task: str = "mail.send", **kw: Any) -> UUID:
    job_id: UUID = conn.execute(
        "select goodjob_enqueue(task => %s, args => %s::jsonb, queue => %s, labels => %s)",
        (task, json.dumps(kw.get("args", [])), kw.get("queue", "default"), kw.get("labels")),
    ).fetchone()[0]  # type: ignore[index]
    return job_id


def fail(conn: psycopg.Connection[Any], job_id: UUID, *, discard: bool = True) -> None:
    """Claim ``job_id`` for a registered process and fail it with a backtrace."""
    process = db.register_process(conn, "testhost", 1, "*")
    claimed = db.fetch_and_lock(conn, process, "*", 1)
    assert [j.id for j in claimed] == [job_id]
    conn.execute(
        "select goodjob_fail_job(%s, %s, 1, 'ValueError', 'bad <b>input</b>',"
        " 'Traceback (most recent call last):\n  File \"t.py\", line 3', discard => %s)",
        (job_id, process, discard),
    )
    db.deregister_process(conn, process)


def csrf(client: TestClient, page: str = "/jobs") -> str:
    html = client.get(page).text
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    if match:
        return match.group(1)
    token = client.cookies.get("goodjob_csrf")
    assert token
    return token


def test_every_page_renders(client: TestClient, db_conn: psycopg.Connection[Any]) -> None:
    failed = enqueue(db_conn)
    fail(db_conn, failed)
    db.register_process(db_conn, "worker-host", 4242, "mail:2;*")
    batch = db_conn.execute(
        "select goodjob_create_batch(description => %s)", ("nightly",)
    ).fetchone()[0]  # type: ignore[index]
    for page in (
        "/",
        "/?range=day",
        "/jobs",
        "/batches",
        f"/batches/{batch}",
        "/cron",
        "/processes",
        "/queues",
        "/keys",
        "/?poll=10",
    ):
        response = client.get(page)
        assert response.status_code == 200, (page, response.text)
        assert "goodjob-pg" in response.text
    assert 'data-poll="10"' in client.get("/?poll=10").text
    assert "worker-host" in client.get("/processes").text
    assert "nightly" in client.get("/batches").text
    assert "1 discarded" in client.get("/?range=day").text


def test_overview_counts_and_chart(client: TestClient, db_conn: psycopg.Connection[Any]) -> None:
    enqueue(db_conn, queue="mail")
    failed = enqueue(db_conn, queue="mail")
    db_conn.execute(
        "update goodjob_jobs set run_at = now() - interval '1 second' where id <> %s", (failed,)
    )
    html = client.get("/").text
    assert 'href="/jobs?state=queued"' in html
    assert re.search(r'<span class="n">2</span><span class="state state-queued">', html)
    assert "<svg" in html and "mail" in html


def test_job_filters_and_search(client: TestClient, db_conn: psycopg.Connection[Any]) -> None:
    a = enqueue(db_conn, "mail.send", args=["alice@example.com"], labels=["vip"])
    b = enqueue(db_conn, "report.build", args=[2024], queue="reports")
    page = lambda query: client.get(f"/jobs?{query}").text  # noqa: E731
    assert str(a) in page("") and str(b) in page("")
    assert str(a) in page("task=mail.send") and str(b) not in page("task=mail.send")
    assert str(b) in page("queue=reports") and str(a) not in page("queue=reports")
    assert str(a) in page("label=vip") and str(b) not in page("label=vip")
    assert str(a) in page("q=ALICE") and str(b) not in page("q=alice")
    assert str(b) in page(f"q={b}") and str(a) not in page(f"q={b}")
    assert str(a) not in page("state=running")
    assert client.get("/jobs?state=bogus").status_code == 400
    assert client.get("/jobs?batch=nope").status_code == 400


def test_keyset_pagination(client: TestClient, db_conn: psycopg.Connection[Any]) -> None:
    db_conn.execute(
        "select goodjob_enqueue_many(jsonb_agg(jsonb_build_object("
        "'task', 't', 'args', jsonb_build_array(g)))) from generate_series(1, 120) g"
    )
    ids: list[str] = []
    url = "/jobs"
    while url:
        html = client.get(url).text
        ids += re.findall(r'<td class="id"><a href="/jobs/([0-9a-f-]+)"', html)
        nxt = re.search(r'rel="next" href="([^"]+)"', html)
        url = nxt.group(1).replace("&amp;", "&") if nxt else ""
    assert len(ids) == 120 and len(set(ids)) == 120
    assert ids == sorted(ids, reverse=True)


def test_job_page_escapes_and_shows_backtrace(
    client: TestClient, db_conn: psycopg.Connection[Any]
) -> None:
    job_id = enqueue(db_conn, args=["<script>alert(1)</script>"])
    fail(db_conn, job_id)
    html = client.get(f"/jobs/{job_id}").text
    assert "<script>alert(1)</script>" not in html
    assert "\\u003cscript\\u003ealert(1)" in html  # tojson escapes the markup
    assert "bad &lt;b&gt;input&lt;/b&gt;" in html
    assert "Traceback (most recent call last)" in html
    assert "attempt 1 discarded" in html
    assert client.get("/jobs/00000000-0000-0000-0000-000000000000").status_code == 404
    assert client.get("/jobs/not-a-uuid").status_code == 400


def test_actions_on_one_job(client: TestClient, db_conn: psycopg.Connection[Any]) -> None:
    job_id = enqueue(db_conn)
    token = csrf(client)
    state = lambda: db.get_job(db_conn, job_id).state.value  # type: ignore[union-attr]  # noqa: E731
    r = client.post(
        f"/jobs/{job_id}/reschedule", data={"csrf": token, "delay": "3600"}, follow_redirects=False
    )
    assert r.status_code == 303 and state() == "scheduled"
    client.post(f"/jobs/{job_id}/discard", data={"csrf": token})
    assert state() == "discarded"
    r = client.post(f"/jobs/{job_id}/discard", data={"csrf": token})
    assert r.status_code == 409 and "cannot discard" in r.text
    client.post(f"/jobs/{job_id}/retry", data={"csrf": token})
    assert state() == "queued"
    db.discard_job(db_conn, job_id)
    r = client.post(f"/jobs/{job_id}/delete", data={"csrf": token}, follow_redirects=False)
    assert r.status_code == 303 and db.get_job(db_conn, job_id) is None


def test_csrf_is_required(client: TestClient, db_conn: psycopg.Connection[Any]) -> None:
    job_id = enqueue(db_conn)
    csrf(client)  # the cookie is set
    assert client.post(f"/jobs/{job_id}/discard").status_code == 403
    assert client.post(f"/jobs/{job_id}/discard", data={"csrf": "x.y"}).status_code == 403
    forged = "0" * 32 + "." + "0" * 64
    client.cookies.set("goodjob_csrf", forged)
    assert client.post(f"/jobs/{job_id}/discard", data={"csrf": forged}).status_code == 403
    assert db.get_job(db_conn, job_id).state.value == "queued"  # type: ignore[union-attr]


def test_bulk_action_confirms_the_count(
    client: TestClient, db_conn: psycopg.Connection[Any]
) -> None:
    ids = [enqueue(db_conn, "bulk.me") for _ in range(3)]
    other = enqueue(db_conn, "keep.me")
    html = client.get("/jobs/bulk/discard?task=bulk.me").text
    assert "Discard 3 job(s)?" in html
    token = csrf(client)
    r = client.post(
        "/jobs/bulk/discard", data={"csrf": token, "task": "bulk.me"}, follow_redirects=False
    )
    assert r.status_code == 303 and "n=3" in r.headers["location"]
    states = {j: db.get_job(db_conn, j).state.value for j in [*ids, other]}  # type: ignore[union-attr]
    assert states == {**dict.fromkeys(ids, "discarded"), other: "queued"}
    assert "Retry 3 job(s)?" in client.get("/jobs/bulk/retry?task=bulk.me").text


def test_queue_pause_and_cron(client: TestClient, db_conn: psycopg.Connection[Any]) -> None:
    enqueue(db_conn, queue="mail")
    token = csrf(client, "/queues")
    client.post("/queues/pause", data={"csrf": token, "queue": "mail"})
    assert db.pauses(db_conn) == [("queue", "mail")]
    assert "Resume" in client.get("/queues").text
    client.post("/queues/resume", data={"csrf": token, "queue": "mail"})
    assert db.pauses(db_conn) == []
    db.define_cron_entry(db_conn, "nightly", "0 3 * * *", "report.build", args=[], kwargs={})
    client.post("/cron/disable", data={"csrf": token, "key": "nightly"})
    assert db.cron_status(db_conn)[0]["enabled"] is False
    client.post("/cron/run", data={"csrf": token, "key": "nightly"})
    assert db.cron_status(db_conn)[0]["last_job_id"] is not None
    assert "nightly" in client.get("/cron").text


def test_mounted_under_a_prefix_with_basic_auth(gj_app: App) -> None:
    from starlette.applications import Starlette
    from starlette.routing import Mount

    host = Starlette(routes=[Mount("/admin/jobs", create_app(gj_app, username="u", password="p"))])
    with TestClient(host) as c:
        assert c.get("/admin/jobs/").status_code == 401
        assert c.get("/admin/jobs/", auth=("u", "wrong")).status_code == 401
        html = c.get("/admin/jobs/", auth=("u", "p")).text
        assert 'href="/admin/jobs/jobs"' in html
        assert 'href="/admin/jobs/static/dashboard.css"' in html
        assert c.get("/admin/jobs/static/dashboard.js", auth=("u", "p")).status_code == 200


def test_pages_refuse_framing_and_posts_need_post(
    client: TestClient, db_conn: psycopg.Connection[Any]
) -> None:
    job_id = enqueue(db_conn)
    response = client.get("/")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert client.get(f"/jobs/{job_id}/discard").status_code == 405
    assert client.get("/nowhere").status_code == 404


def test_keys_page_shows_limits_and_counts(
    client: TestClient, db_conn: psycopg.Connection[Any]
) -> None:
    db_conn.execute(
        "select goodjob_define_concurrency(task => 'reports.build', total_limit => 2,"
        " perform_limit => 1, enqueue_throttle_limit => 10, enqueue_throttle_period => '60 s')"
    )
    db_conn.execute("select goodjob_enqueue(task => 'reports.build', concurrency_key => 'acme<&>')")
    assert "no active concurrency keys" not in client.get("/keys").text
    html = client.get("/keys").text
    assert "acme&lt;&amp;&gt;" in html, "keys are escaped"
    row = html[html.index("acme&lt;&amp;&gt;") :]
    assert re.search(r"<td>2</td><td>\u2013</td><td>1</td>", row)
    assert "10 per 0:01:00" in row
    assert 'href="/keys"' in client.get("/").text
