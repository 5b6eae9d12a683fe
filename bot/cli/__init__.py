"""`accessbot`: the command-line entry point.

Bad input gets one line on stderr and exit code 2; a command that reaches the database or Slack and
fails gets one line and exit code 1. Only `serve` and `socket` need Slack secrets.

Text rules (bot/domain/text.py): ids on the command line are ASCII digits within the database's integer
range; free text (directive fields, the notice file, reasons) is stored as clean_text leaves it; every
value from data printed in text mode goes through terminal_safe (--json output is JSON, whose escapes
already cover control characters); every CSV cell goes through csv_safe.

    entry       main(): settings, logging, and every error as one line and an exit code
    parser      the commands and their arguments; arguments: reading ids and counts
    common      what commands share: usage errors, the database, the context, who is running it
    output      tables, JSON and the error line, made printable
    serving     serve, socket, worker          db          db upgrade, db current
    directory   directory import, show          workflows   workflows check
    lists       requests list, grants list      outbox      outbox list, retry
    directive   directive issue                 directives  directive list, lift, report
    audit       audit export, verify, checkpoint demo        demo
    reports     report access

--json records are the pydantic models of bot/present/records.py and bot/present/directive_records.py.
"""

from bot.cli.entry import main

__all__ = ["main"]
