"""`fluentai.server.routes.Router` without sockets (SPEC §7: `:param`, a final `*`,
404 vs 405, WebSocket upgrade paths)."""

from __future__ import annotations

import pytest

from fluentai.server.routes import WEBSOCKET_UPGRADE, Match, RouteError, Router


def matched(router: Router, method: str, path: str) -> Match:
    found = router.match(method, path)
    assert isinstance(found, Match), f"{method} {path} gave {found}"
    return found


def test_literal_paths_match_exactly() -> None:
    r = Router()
    r.add("GET", "/", "root")
    r.add("GET", "/a/b", "ab")
    assert matched(r, "GET", "/").route.handler == "root"
    assert matched(r, "GET", "/a/b").route.handler == "ab"
    assert matched(r, "GET", "/a/b/").route.handler == "ab"  # a trailing slash is no new segment
    assert r.match("GET", "/a").status == 404
    assert r.match("GET", "/a/b/c").status == 404
    assert r.match("GET", "/a/c").status == 404


def test_param_segments_capture_their_text() -> None:
    r = Router()
    r.add("GET", "/users/:id/posts/:post", "h")
    m = matched(r, "GET", "/users/42/posts/hello-world")
    assert m.params == {"id": "42", "post": "hello-world"}
    assert r.match("GET", "/users/42/posts").status == 404
    assert r.match("GET", "/users//posts/1").status == 404  # an empty segment is no parameter value


def test_final_star_takes_the_rest_of_the_path() -> None:
    r = Router()
    r.add("GET", "/files/*", "files")
    assert matched(r, "GET", "/files/a/b/c.txt").params == {"*": "a/b/c.txt"}
    assert matched(r, "GET", "/files/x").params == {"*": "x"}
    assert r.match("GET", "/other/x").status == 404


def test_star_with_params() -> None:
    r = Router()
    r.add("GET", "/u/:name/*", "h")
    assert matched(r, "GET", "/u/ann/a/b").params == {"name": "ann", "*": "a/b"}


def test_star_only_as_the_last_segment() -> None:
    r = Router()
    with pytest.raises(RouteError, match=r"\*"):
        r.add("GET", "/a/*/b", "h")


def test_bad_method_and_path_are_route_errors() -> None:
    r = Router()
    with pytest.raises(RouteError, match="method"):
        r.add("FETCH", "/a", "h")
    with pytest.raises(RouteError, match="must start with '/'"):
        r.add("GET", "a", "h")


def test_method_is_case_insensitive_at_registration() -> None:
    r = Router()
    r.add("post", "/a", "h")
    assert matched(r, "POST", "/a").route.method == "POST"


def test_404_when_no_path_matches_405_when_only_the_method_differs() -> None:
    r = Router()
    r.add("GET", "/items/:id", "get_item")
    r.add("DELETE", "/items/:id", "delete_item")
    assert r.match("POST", "/items/1").status == 405
    assert r.match("POST", "/nothing").status == 404
    assert matched(r, "DELETE", "/items/1").route.handler == "delete_item"


def test_head_is_served_by_a_get_route() -> None:
    r = Router()
    r.add("GET", "/page", "page")
    assert matched(r, "HEAD", "/page").route.handler == "page"
    r.add("POST", "/form", "form")
    assert r.match("HEAD", "/form").status == 405


def test_star_method_matches_every_method() -> None:
    r = Router()
    r.add("*", "/any", "any")
    for method in ("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"):
        assert matched(r, method, "/any").route.handler == "any"


def test_first_registered_matching_route_wins() -> None:
    r = Router()
    r.add("GET", "/a/special", "special")
    r.add("GET", "/a/:x", "param")
    assert matched(r, "GET", "/a/special").route.handler == "special"
    assert matched(r, "GET", "/a/other").route.handler == "param"


def test_registering_the_same_method_and_path_replaces_the_handler() -> None:
    r = Router()
    r.add("GET", "/a", "old")
    r.add("POST", "/a", "post")
    r.add("GET", "/a", "new")
    assert matched(r, "GET", "/a").route.handler == "new"
    assert matched(r, "POST", "/a").route.handler == "post"
    assert [route.handler for route in r.routes].count("old") == 0
    assert len(r.routes) == 2


def test_replacing_a_route_keeps_its_precedence() -> None:
    r = Router()
    r.add("GET", "/a/special", "special_v1")
    r.add("GET", "/a/:x", "param")
    r.add("GET", "/a/special", "special_v2")  # e.g. redefined at the REPL
    assert matched(r, "GET", "/a/special").route.handler == "special_v2"


def test_function_values_are_kept_as_handlers() -> None:
    r = Router()

    def handler(req: object) -> str:
        return "x"

    r.add("GET", "/f", handler)
    assert matched(r, "GET", "/f").route.handler is handler


# ---------------------------------------------------------------------- WebSocket paths


def test_websocket_allowed_anywhere_when_no_upgrade_route_is_registered() -> None:
    r = Router()
    r.add("GET", "/http-only", "page")  # ordinary routes do not restrict upgrades
    assert r.websocket_allowed("/")
    assert r.websocket_allowed("/anything/at/all")
    assert r.websocket_allowed("/http-only")


def test_websocket_allowed_only_at_registered_upgrade_paths() -> None:
    r = Router()
    r.add("GET", "/ws", WEBSOCKET_UPGRADE)
    r.add("GET", "/rooms/:room", WEBSOCKET_UPGRADE)
    r.add("GET", "/page", "page")
    assert r.websocket_allowed("/ws")
    assert r.websocket_allowed("/rooms/lobby")
    assert not r.websocket_allowed("/rooms")
    assert not r.websocket_allowed("/")
    assert not r.websocket_allowed("/page")
    assert not r.websocket_allowed("/ws/deeper")
    assert [route.pattern for route in r.websocket_routes()] == ["/ws", "/rooms/:room"]


def test_plain_http_to_an_upgrade_only_path_is_426() -> None:
    r = Router()
    r.add("GET", "/ws", WEBSOCKET_UPGRADE)
    r.add("GET", "/page", "page")
    assert r.match("GET", "/ws").status == 426
    assert r.match("POST", "/ws").status == 426
    assert r.match("GET", "/nothing").status == 404
    assert matched(r, "GET", "/page").route.handler == "page"


def test_an_http_route_on_the_same_path_shape_serves_http() -> None:
    r = Router()
    r.add("GET", "/live/:room", WEBSOCKET_UPGRADE)
    r.add("POST", "/live/:room", "post_to_room")
    assert matched(r, "POST", "/live/a").route.handler == "post_to_room"
    assert r.match("GET", "/live/a").status == 405  # an HTTP route has the path, not this method


def test_replace_puts_new_routes_where_the_old_ones_were() -> None:
    r = Router()
    r.add("GET", "/first", "first")
    r.add("GET", "/a", "a1", origin="file")
    r.add("GET", "/b", "b1", origin="file")
    r.add("GET", "/*", "catch_all")
    new = [r.make("GET", "/c", "c2", "file2"), r.make("GET", "/a", "a2", "file2")]
    r.replace(lambda route: route.origin == "file", new)
    # /b is gone; /c and /a come before the catch-all, in the new order.
    assert [(x.pattern, x.handler) for x in r.routes] == [
        ("/first", "first"), ("/c", "c2"), ("/a", "a2"), ("/*", "catch_all")]
    assert matched(r, "GET", "/b").route.handler == "catch_all"


def test_replace_takes_over_a_route_with_the_same_method_and_path() -> None:
    r = Router()
    r.add("GET", "/x", "typed_at_the_prompt")
    r.add("POST", "/x", "post")
    r.replace(lambda route: False, [r.make("get", "/x", "from_the_file", "file")])
    assert [(x.method, x.handler) for x in r.routes] == [("GET", "from_the_file"),
                                                         ("POST", "post")]
    # Nothing new: the old ones are removed, the others untouched.
    r.replace(lambda route: route.origin == "file", [])
    assert [x.handler for x in r.routes] == ["post"]
