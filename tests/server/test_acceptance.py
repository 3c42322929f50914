"""The user's two seed programs run unchanged: the echo server on port 8081 and the chat
server on port 8080 (SPEC preamble).

The programs are the copies in `tests/acceptance/` (see its README); their originals live
outside the repository, in `../shared/acceptance/` beside the clone, and when they are there
the copies must be identical. The servers listen on fixed ports, so these are the only tests
that do; a test is skipped when its port is taken by something else on this machine.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from serverkit import FlcProcess, Programs, recv, ws_connect

REPO_ROOT = Path(__file__).resolve().parents[2]
COPIES = REPO_ROOT / "tests" / "acceptance"
ORIGINALS = REPO_ROOT.parent / "shared" / "acceptance"
SEEDS = ("seed_chat_server.flc", "seed_echo_server.flc")


@pytest.mark.parametrize("name", SEEDS)
def test_copies_match_the_originals(name: str) -> None:
    original = ORIGINALS / name
    if not original.is_file():
        pytest.skip(f"the original seed programs are not beside this clone "
                    f"(../shared/acceptance/{name}); the tests use the copies in "
                    f"tests/acceptance/")
    assert (COPIES / name).read_bytes() == original.read_bytes(), (
        f"tests/acceptance/{name} differs from ../shared/acceptance/{name}: copy the "
        f"original over (tests/acceptance/README.md)")


def seed(name: str) -> str:
    return (COPIES / name).read_text(encoding="utf-8")


def require_free_port(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError as e:
            pytest.skip(f"port {port} is in use on this machine ({e.strerror}); "
                        "the seed program needs it")


def start_seed(programs: Programs, name: str, port: int) -> FlcProcess:
    require_free_port(port)
    proc = programs.start(seed(name), name=name, first_line=r".* on port (\d+)")
    assert proc.port == port
    return proc


async def test_seed_echo_server(programs: Programs) -> None:
    proc = start_seed(programs, "seed_echo_server.flc", 8081)
    assert proc.lines[0] == "WebSocket echo server running on port 8081"
    async with ws_connect(8081) as ws:
        await ws.send("hello")
        assert await recv(ws) == "Echo: hello"
        await ws.send("second message")
        assert await recv(ws) == "Echo: second message"
        # The monitor loop prints every 5 s (real time, also under --deterministic).
        line = await proc.line(lambda s: s.startswith("Active connections:"), timeout=20)
        assert line == "Active connections: 1"
        await ws.send("still echoing")
        assert await recv(ws) == "Echo: still echoing"
    assert "error" not in proc.stderr


async def test_seed_chat_server(programs: Programs) -> None:
    proc = start_seed(programs, "seed_chat_server.flc", 8080)
    assert proc.lines[0] == "Chat server running on port 8080"
    async with ws_connect(8080) as first:
        welcome = json.loads(await recv(first))
        assert welcome == {"type": "welcome", "message": "Welcome to the chat!", "user_count": 1}
        async with ws_connect(8080) as second:
            welcome2 = json.loads(await recv(second))
            assert welcome2 == {"type": "welcome", "message": "Welcome to the chat!",
                                "user_count": 2}
            # The seed's chat handler is `handle_chat_message`: every line goes to everyone
            # as {"type": "chat", "from": "User_<6 characters>", "message", "timestamp"}.
            await first.send("hello from the first")
            from_first = [json.loads(await recv(ws)) for ws in (first, second)]
            await second.send("and from the second")
            from_second = [json.loads(await recv(ws)) for ws in (first, second)]
    for got, text in ((from_first, "hello from the first"), (from_second, "and from the second")):
        assert got[0] == got[1], "both users see the same message"
        chat = got[0]
        assert set(chat) == {"type", "from", "message", "timestamp"}
        assert (chat["type"], chat["message"]) == ("chat", text)
        assert chat["from"].startswith("User_") and len(chat["from"]) == len("User_") + 6
        assert type(chat["timestamp"]) is int
    assert from_first[0]["from"] != from_second[0]["from"]
    assert "error" not in proc.stderr and "warning" not in proc.stderr
