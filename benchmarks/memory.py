"""`python -m benchmarks --only memory`: how much memory a `serve` process holds, idle, under the
50-concurrent `/access status` load of the `acks` benchmark, and while it delivers the notices of a
1,000- and a 10,000-person directive (the `broadcast` benchmark's setting, without its rate limit).

Memory is the kernel's count for the process (Linux, /proc/<pid>/status): VmRSS (resident now) and
VmHWM (the most it has been resident, its peak RSS). The acks benchmark runs as it does on its own; a
watcher thread reads the figures of this process's children (the `serve` it started, the bare Bolt
peer, the CLI that issues the directive) every 50 ms, so the peak is the kernel's own high-water mark,
not a sample that could miss a spike.

Targets (see README, Benchmarks):
- under load, `serve`'s peak RSS at most LOAD_RATIO_TARGET times its idle RSS: the threads and pools
  that serve 50 people at once must not hold memory per request;
- during a broadcast, the peak for 10,000 notices at most BROADCAST_RATIO_TARGET times the peak for
  1,000: the sender streams claimed rows, so memory must not grow with the number of notices;
- every peak under CEILING_MIB, half of a 512 MiB container limit (a common size for a small Python
  web service): the other half is headroom for bursts larger than these, and for the garbage a long-
  running process accumulates between collections.
"""

from __future__ import annotations

import os
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.audience import holders_served, issue_order
from bot.store import outbox
from bot.store.db import Database
from tests.support.bot_server import BOT_TOKEN, BotServer
from tests.support.seed import prepare_database
from tests.support.slack import SlackEmulator

LOAD_RATIO_TARGET = 1.5
BROADCAST_RATIO_TARGET = 1.25
CEILING_MIB = 256
POLL_SECONDS = 0.05
BROADCAST_TIMEOUT = 3600
# How long `serve` is left alone after it first answers before its idle RSS is read: long enough for the
# scheduler's first round (the re-check, the audit sealer) to have run.
SETTLE_SECONDS = 5.0


def status_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in KiB (Linux's /proc/<pid>/status); empty once it has exited."""
    found: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
            for line in status:
                name, _, rest = line.partition(":")
                if name in ("VmRSS", "VmHWM"):
                    found[name] = int(rest.split()[0])
    except (FileNotFoundError, ProcessLookupError, ValueError):
        return {}
    return found


def _children(parent: int) -> dict[int, str]:
    """This machine's processes whose parent is `parent`: pid -> command line."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as stat:
                # The command name is in parentheses and may hold spaces: the fields after it are split.
                ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
            if ppid == parent:
                with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                    found[int(entry)] = cmdline.read().replace(b"\0", b" ").decode(errors="replace")
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            continue
    return found


@dataclass
class Watch:
    """The peak RSS (KiB) of each child process seen, by command line, while the watch runs."""

    peaks: dict[int, int] = field(default_factory=dict)
    commands: dict[int, str] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)

    def peak_mib(self, command_part: str) -> float:
        """The highest peak of the children whose command line contains `command_part`, in MiB."""
        peaks = [kib for pid, kib in self.peaks.items() if command_part in self.commands[pid]]
        if not peaks:
            raise RuntimeError(f"no child process ran {command_part!r}")
        return max(peaks) / 1024

    def run(self) -> None:
        me = os.getpid()
        while not self._stop.is_set():
            for pid, command in _children(me).items():
                self.commands.setdefault(pid, command)
                peak = status_kib(pid).get("VmHWM")
                if peak is not None:
                    self.peaks[pid] = max(peak, self.peaks.get(pid, 0))
            self._stop.wait(POLL_SECONDS)


@contextmanager
def watching() -> Iterator[Watch]:
    """Watch this process's children while the block runs."""
    watch = Watch()
    thread = threading.Thread(target=watch.run, name="memory-watch", daemon=True)
    thread.start()
    try:
        yield watch
    finally:
        watch._stop.set()
        thread.join(5)


def idle_serve(url: str, folder: Path) -> tuple[float, float]:
    """(RSS, peak RSS) in MiB of a `serve` that has started, answered once and settled, doing nothing."""
    with SlackEmulator(bot_token=BOT_TOKEN) as emulator:
        prepare_database(url)
        server = BotServer(url, emulator, folder / "idle.log").start()
        try:
            with urllib.request.urlopen(f"{server.url}/healthz", timeout=10):
                pass
            time.sleep(SETTLE_SECONDS)  # a benchmark: the scheduler's first round runs meanwhile
            assert server.process is not None
            figures = status_kib(server.process.pid)
            return figures["VmRSS"] / 1024, figures["VmHWM"] / 1024
        finally:
            server.stop()


def broadcast(url: str, folder: Path, notices: int) -> None:
    """`serve` delivering a directive's notice to `notices` holders and the model's channel, as fast as
    the emulator takes them, until the outbox is empty (read from the database: asking the emulator about
    10,000 people as often would slow the emulator itself)."""
    # The post rate the workspace allows, where the sender paces posts to one: the emulator sets none.
    fast = {"ACCESSBOT_SLACK_POSTS_PER_MINUTE": "60000"}
    with holders_served(url, folder, notices, "memory-broadcast.log", **fast) as (server, _, _):
        issue_order(server, folder)
        db = Database(url, pool=False)
        deadline = time.monotonic() + BROADCAST_TIMEOUT
        try:
            while time.monotonic() < deadline:
                with db.read() as session:
                    if outbox.unfinished_count(session) == 0:
                        return
                time.sleep(0.5)
            raise RuntimeError(f"{notices:,} notices were not delivered within {BROADCAST_TIMEOUT} s")
        finally:
            db.dispose()


def report(
    label: str,
    folder: Path,
    fresh: Callable[[], AbstractContextManager[str]],
    acks: Callable[[str, list[int], int], Any],
    *,
    commands: int,
    notices: tuple[int, int] = (1_000, 10_000),
) -> None:
    """Measure and print the memory figures on one database, the servers' logs in `folder`. `fresh()`
    gives a new database's URL; `acks(url, levels, count)` is the `acks` benchmark."""
    with fresh() as url:
        idle, idle_peak = idle_serve(url, folder)
    with fresh() as url, watching() as load:
        acks(url, [50], commands)
    serve_load, bare_load = load.peak_mib("bot.cli serve"), load.peak_mib("benchmarks.bare_bolt")
    print(
        f"memory of serve on {label}: idle {idle:.0f} MiB (peak {idle_peak:.0f} MiB while starting); "
        f"50 concurrent /access status ({commands:,} commands) peak {serve_load:.0f} MiB, "
        f"{serve_load / idle:.2f} of idle (target {LOAD_RATIO_TARGET}; the bare Bolt app {bare_load:.0f} MiB)"
    )
    peaks = []
    for size in notices:
        with fresh() as url, watching() as sent:
            broadcast(url, folder, size)
        peaks.append((size, sent.peak_mib("bot.cli serve"), sent.peak_mib("bot.cli directive")))
    (small, small_serve, _), (large, large_serve, large_cli) = peaks
    print(
        f"memory of serve on {label} during a broadcast: {small:,} notices peak "
        f"{small_serve:.0f} MiB, {large:,} notices peak {large_serve:.0f} MiB, ratio "
        f"{large_serve / small_serve:.2f} for {large // small}x the notices (target "
        f"{BROADCAST_RATIO_TARGET}); the CLI that applied the {large:,}-person directive peaked at "
        f"{large_cli:.0f} MiB; every peak against the {CEILING_MIB} MiB ceiling: "
        f"{max(serve_load, large_serve, idle_peak) / CEILING_MIB:.2f}"
    )
