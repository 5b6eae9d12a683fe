"""One webhook attempt over a real socket (bot/notify/webhooks.post): the timeout bounds the whole
exchange, and only a 429's or 503's Retry-After asks the sender to wait."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from bot.notify.webhooks import post

HEADERS = {"content-type": "application/json"}


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    yield server
    server.close()


def url_of(server: socket.socket) -> str:
    return f"http://127.0.0.1:{server.getsockname()[1]}/hook"


def answer_with(server: socket.socket, response: bytes, pause: float = 0.0) -> None:
    """Accept one request and send `response`, a byte every `pause` seconds (0: at once)."""

    def run() -> None:
        connection, _ = server.accept()
        with connection:
            connection.recv(65536)
            try:
                if not pause:
                    connection.sendall(response)
                for byte in response if pause else b"":
                    connection.sendall(bytes([byte]))
                    time.sleep(pause)
            except OSError:  # the sender hung up
                pass

    threading.Thread(target=run, daemon=True).start()


def test_a_receiver_answering_a_byte_at_a_time_is_cut_off_at_the_timeout(listener: socket.socket) -> None:
    # Each byte comes well within the socket's per-read timeout; the whole answer would take 5 s.
    slow = b"HTTP/1.1 204 No Content\r\nX-Pad: " + b"a" * 25 + b"\r\n\r\n"
    answer_with(listener, slow, pause=0.1)
    answer = post(url_of(listener), b"{}", HEADERS, timeout=0.5)
    assert (answer.status, answer.error, answer.delivered) == (None, "timed out", False)


@pytest.mark.parametrize(
    ("status", "wait"),
    [("429 Too Many Requests", 300.0), ("503 Service Unavailable", 300.0), ("500 Oops", None)],
)
def test_only_a_429_or_503_asks_the_sender_to_wait(
    listener: socket.socket, status: str, wait: float | None
) -> None:
    answer_with(listener, f"HTTP/1.1 {status}\r\nRetry-After: 300\r\nContent-Length: 0\r\n\r\n".encode())
    answer = post(url_of(listener), b"{}", HEADERS, timeout=5.0)
    assert answer.status == int(status.split()[0]) and answer.retry_after == wait


def test_a_redirect_is_an_answer_not_followed(listener: socket.socket) -> None:
    answer_with(
        listener,
        b"HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:9/\r\nContent-Length: 0\r\n\r\n",
    )
    answer = post(url_of(listener), b"{}", HEADERS, timeout=5.0)
    assert (answer.status, answer.delivered) == (307, False)


def test_a_delivered_answer(listener: socket.socket) -> None:
    answer_with(listener, b"HTTP/1.1 204 No Content\r\n\r\n")
    assert post(url_of(listener), b"{}", HEADERS, timeout=5.0).delivered
