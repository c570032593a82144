"""The editor's JSON API over real HTTP: every operation, every invalid case (4xx, nothing changed), a race."""
from __future__ import annotations

import threading

import httpx
import pytest
from fastapi.testclient import TestClient


@pytest.fixture
def api(app_factory, config, seeded):
    with TestClient(app_factory(config)) as c:
        yield c


def _state(api, video="v1"):
    return [(s["id"], s["start"], s["end"], s["caption"], s["version"], sorted(s["members"]))
            for s in api.get(f"/api/videos/{video}/segments").json()["segments"]]


def _history(api, video="v1"):
    return api.get(f"/api/videos/{video}/history").json()["history"]


def test_read_endpoints(api, seeded):
    v = api.get("/api/videos/v1").json()
    assert v["video"]["title"] == "Stage one" and v["video"]["shot_boundaries"] == [4.0, 8.0, 10.5]
    assert [s["id"] for s in v["segments"]] == seeded[:3]
    first = v["segments"][0]
    assert first["caption_ko"] == "무대에서 춤추는 소녀" and first["caption_auto"] == "a girl dancing on stage"
    assert first["transcript"] == "hello" and first["version"] == 1
    assert api.get(f"/api/segments/{seeded[1]}").json()["members"] == ["Minji", "Hanni"]
    members = api.get("/api/members").json()["members"]
    assert {m["name"]: m["aliases"] for m in members}["Hanni"] == ["하니"]
    assert [x["id"] for x in api.get("/api/videos").json()["videos"]] == ["v2", "v1"]  # ordered by title
    assert api.get("/api/videos/nope").status_code == 404
    assert api.get("/api/segments/99999").status_code == 404


def test_every_operation_then_history(api, seeded):
    r = api.patch(f"/api/segments/{seeded[0]}",
                  json={"version": 1, "caption": "edited", "members": ["Hanni", "Danielle"]})
    assert r.status_code == 200 and r.json()["version"] == 2 and sorted(r.json()["members"]) == ["Danielle", "Hanni"]
    r = api.post(f"/api/segments/{seeded[1]}/split", json={"version": 1, "at": 6.0})
    assert r.status_code == 200 and [(s["start"], s["end"]) for s in r.json()["segments"]] == [(4.0, 6.0), (6.0, 8.0)]
    new_id = r.json()["segments"][1]["id"]
    r = api.post("/api/segments/merge",
                 json={"segment_ids": [new_id, seeded[2]], "versions": {str(new_id): 1, str(seeded[2]): 1}})
    assert r.status_code == 200 and (r.json()["start"], r.json()["end"]) == (6.0, 12.0)
    r = api.post("/api/segments", json={"video_id": "v1", "start": 20, "end": 22.5, "members": ["민지"]})
    assert r.status_code == 201 and r.json()["members"] == ["Minji"]
    r = api.delete(f"/api/segments/{r.json()['id']}", params={"version": 1})
    assert r.status_code == 200
    ops = [h["operation"] for h in _history(api)]
    assert ops == ["delete", "create", "merge", "split", "update"]
    seg_hist = api.get(f"/api/segments/{new_id}/history").json()["history"]
    assert [h["operation"] for h in seg_hist] == ["merge", "split"]
    # revert everything newest first: the original state comes back
    for h in _history(api):
        assert api.post(f"/api/history/{h['id']}/revert").status_code == 200, h
    assert [(i, a, b, c, m) for i, a, b, c, _, m in _state(api)] == [
        (seeded[0], 0.0, 4.0, "a girl dancing on stage", ["Hanni"]),
        (seeded[1], 4.0, 8.0, "a man riding a skateboard", ["Hanni", "Minji"]),
        (seeded[2], 8.0, 12.0, "people in the park", ["Danielle"])]


@pytest.mark.parametrize("method,url,body,status,fragment", [
    ("post", "/api/segments/{s1}/split", {"version": 1, "at": 2.0}, 400, "outside segment"),
    ("post", "/api/segments/{s1}/split", {"version": 1, "at": 8.0}, 400, "outside segment"),
    ("post", "/api/segments/{s1}/split", {"version": 1, "at": "abc"}, 422, "at"),
    ("post", "/api/segments/merge", {"segment_ids": ["{s0}", "{s2}"]}, 400, "not adjacent"),
    ("post", "/api/segments/merge", {"segment_ids": ["{s2}", "{s3}"]}, 400, "different videos"),
    ("post", "/api/segments/merge", {"segment_ids": ["{s0}"]}, 422, "segment_ids"),
    ("post", "/api/segments", {"video_id": "v1", "start": 3.0, "end": 5.0}, 400, "overlaps segment"),
    ("post", "/api/segments", {"video_id": "v1", "start": 11.9, "end": 20.0}, 400, "overlaps segment"),
    ("post", "/api/segments", {"video_id": "v1", "start": 20.0, "end": 20.0}, 400, "must be after start"),
    ("post", "/api/segments", {"video_id": "v1", "start": 25.0, "end": 20.0}, 400, "must be after start"),
    ("post", "/api/segments", {"video_id": "v1", "start": -2.0, "end": 1.0}, 400, "before the beginning"),
    ("post", "/api/segments", {"video_id": "zz", "start": 1.0, "end": 2.0}, 404, "does not exist"),
    ("patch", "/api/segments/{s0}", {"version": 1, "start": 3.0, "end": 3.0}, 400, "must be after start"),
    ("patch", "/api/segments/{s0}", {"version": 1, "end": 6.0}, 400, "overlaps segment"),
    ("patch", "/api/segments/{s0}", {"version": 1, "members": ["Hanni", "Ghost"]}, 400, "Ghost"),
    ("patch", "/api/segments/{s0}", {"version": 9, "caption": "x"}, 409, "changed by someone else"),
    ("patch", "/api/segments/{s0}", {"caption": "x"}, 422, "version"),
    ("patch", "/api/segments/{s0}", {"version": 1, "colour": "red"}, 422, "colour"),
    ("post", "/api/segments/{s1}/split", {"version": 2, "at": 6.0}, 409, "changed by someone else"),
    ("post", "/api/segments/merge", {"segment_ids": ["{s0}", "{s1}"], "versions": {"{s0}": 3}}, 409, "changed by"),
    ("delete", "/api/segments/{s0}?version=5", None, 409, "changed by someone else"),
    ("delete", "/api/segments/{s0}", None, 422, "version"),
    ("delete", "/api/segments/424242?version=1", None, 404, "does not exist"),
    ("post", "/api/history/424242/revert", None, 404, "does not exist"),
])
def test_invalid_input_is_refused_and_changes_nothing(api, seeded, method, url, body, status, fragment):
    subs = {f"{{s{i}}}": str(s) for i, s in enumerate(seeded)}

    def fill(v):
        if isinstance(v, str):
            for k, val in subs.items():
                v = v.replace(k, val)
            return int(v) if v.isdigit() and v in subs.values() else v
        if isinstance(v, list):
            return [fill(x) for x in v]
        if isinstance(v, dict):
            return {fill(k) if k in subs else k: fill(x) for k, x in v.items()}
        return v

    before = _state(api)
    kwargs = {} if body is None else {"json": fill(body)}
    r = api.request(method.upper(), fill(url), **kwargs)
    assert r.status_code == status, r.text
    assert fragment in r.text
    assert _state(api) == before and _history(api) == []


def test_revert_conflict_explains(api, seeded):
    api.patch(f"/api/segments/{seeded[0]}", json={"version": 1, "caption": "one"})
    first = _history(api)[0]["id"]
    api.patch(f"/api/segments/{seeded[0]}", json={"version": 2, "caption": "two"})
    r = api.post(f"/api/history/{first}/revert")
    assert r.status_code == 409 and "edited since" in r.json()["detail"] and r.json()["error"] == "RevertConflict"
    assert api.get(f"/api/segments/{seeded[0]}").json()["caption"] == "two"


def test_concurrent_http_edits_exactly_one_wins(app_factory, config, seeded, serve):
    base = serve(app_factory(config))
    results = {}
    barrier = threading.Barrier(3)

    def edit(name, body):
        barrier.wait()
        results[name] = httpx.patch(f"{base}/api/segments/{seeded[1]}", json=body, timeout=30)

    threads = [threading.Thread(target=edit, args=("caption", {"version": 1, "caption": "from A"})),
               threading.Thread(target=edit, args=("members", {"version": 1, "members": ["Danielle"]})),
               threading.Thread(target=edit, args=("split", {"version": 1, "caption": "from C"}))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    codes = sorted(r.status_code for r in results.values())
    assert codes == [200, 409, 409], {k: (r.status_code, r.text) for k, r in results.items()}
    winner = next(k for k, r in results.items() if r.status_code == 200)
    seg = httpx.get(f"{base}/api/segments/{seeded[1]}").json()
    assert seg["version"] == 2
    if winner == "members":
        assert seg["members"] == ["Danielle"] and seg["caption_edited"] is None
    else:
        assert seg["caption_edited"] == results[winner].json()["caption_edited"]
        assert sorted(seg["members"]) == ["Hanni", "Minji"]
    assert len(httpx.get(f"{base}/api/videos/v1/history").json()["history"]) == 1
    for r in results.values():
        if r.status_code == 409:
            assert "Reload" in r.json()["detail"]


@pytest.mark.parametrize("method,url,body", [
    ("patch", "/api/segments/{s1}", {"version": 1, "caption": "a\x00b"}),
    ("patch", "/api/segments/{s1}", {"version": 1, "caption_ko": "a\x00b"}),
    ("patch", "/api/segments/{s1}", {"version": 1, "members": ["Ha\x00nni"]}),
    ("post", "/api/segments", {"video_id": "v\x00", "start": 20.0, "end": 21.0}),
    ("get", "/media/videos/a%00b.mp4", None),
    ("get", "/api/segments/99999999999999999999/history", None),
    ("patch", "/api/segments/{s1}", '{"version": 1, "caption": "\\ud800"}'),      # a lone surrogate in JSON
])
def test_values_the_database_cannot_take_are_a_400_not_a_500(app_factory, config, seeded, serve, method, url, body):
    base = serve(app_factory(config))
    with httpx.Client(base_url=base, timeout=10) as client:            # one keep-alive connection
        kwargs = {"content": body, "headers": {"content-type": "application/json"}} if isinstance(body, str) else \
            {"json": body} if body is not None else {}
        r = client.request(method, url.format(s1=seeded[0]), **kwargs)
        assert r.status_code == 400 and "NUL" in r.json()["detail"], r.text
        assert client.get("/api/videos/v1").status_code == 200          # the connection is still usable
    with TestClient(app_factory(config)) as c:
        assert _state(c)[0][3] == "a girl dancing on stage"              # nothing changed


def test_a_page_with_a_nul_in_its_address_answers_an_error_page(api):
    r = api.get("/videos/a%00b")
    assert r.status_code == 400 and "text/html" in r.headers["content-type"] and "NUL" in r.text
