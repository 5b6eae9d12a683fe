"""ACCESSBOT_LOG_FORMAT=json's lines (bot/logs.py): what one holds, and the fields the code around it
attaches."""

from __future__ import annotations

import io
import json
import logging

from bot.logs import _Fields, json_formatter, log_fields


def test_a_json_line_holds_time_level_logger_message_and_the_fields_around_it() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(json_formatter())
    handler.addFilter(_Fields())
    logger = logging.getLogger("tests.json")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        with log_fields(job="expire grants"):
            with log_fields(outbox_id=7):
                logger.warning("outbox item %s: %s", 7, "naïve → ok")
            try:
                raise ValueError("boom")
            except ValueError:
                logger.exception("failed", extra={"job": "given"})
        logger.info("outside")
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    first, second, third = (
        json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")
    )
    assert first["level"] == "WARNING" and first["logger"] == "tests.json"
    assert first["message"] == "outbox item 7: naïve → ok"
    assert first["job"] == "expire grants" and first["outbox_id"] == 7
    assert first["time"].endswith("+00:00")
    assert second["job"] == "given" and "outbox_id" not in second
    assert "ValueError: boom" in second["exc_info"]
    assert "job" not in third
