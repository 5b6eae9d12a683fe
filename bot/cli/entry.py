"""`main`: read the arguments and the settings, set up logging, run the command, and turn every error a
person can cause into one line on stderr and an exit code (0 done, 1 failed, 2 bad input or settings)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence

from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError, ProgrammingError

from bot.cli.common import EXIT_FAILURE, EXIT_USAGE, Command, UsageError
from bot.cli.output import fail
from bot.cli.parser import build_parser
from bot.config import ConfigError, load_settings
from bot.domain.licences import LicenceError
from bot.domain.people import FileProblems
from bot.domain.text import terminal_safe
from bot.logs import configure_logging
from bot.workflows import WorkflowError

# How many of a file's problems are listed: the first ones show what is wrong with a file that is wrong
# on every line (another file chosen by mistake) without burying the summary under 100,000 lines.
PROBLEMS_LISTED = 100


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Run `accessbot ARGV` and return its exit code (0 done, 1 failed, 2 bad input or settings).
    `environ` replaces os.environ (and .env) when given, so a caller can run it in its own process."""
    parser = build_parser()
    args = argparse.Namespace()
    try:
        args = parser.parse_args(_readable(sys.argv[1:] if argv is None else argv))
        settings = load_settings() if environ is None else load_settings(environ, env_file=None)
        configure_logging(settings.log_level, settings.log_format)
        run: Command = args.run
        code = run(settings, args)
        sys.stdout.flush()  # a reader that went away is found here, not by the flush at exit
        return code
    except UsageError as error:
        return fail(EXIT_USAGE, str(error))
    except ConfigError as error:
        return fail(EXIT_USAGE, str(error))
    except WorkflowError as error:
        for problem in error.problems:
            print(terminal_safe(str(problem)), file=sys.stderr)
        return fail(EXIT_USAGE, f"workflows are not valid ({len(error.problems)} problem(s))")
    except FileProblems as error:
        source = getattr(args, "file", "directory")
        for line, message in error.problems[:PROBLEMS_LISTED]:
            # The messages quote the file's cells: one printable line each.
            shown = f"{source}:{line}: {message}" if line else f"{source}: {message}"
            print(terminal_safe(shown), file=sys.stderr)
        more = len(error.problems) - PROBLEMS_LISTED
        if more > 0:
            print(terminal_safe(f"{source}: … and {more} more problem(s)"), file=sys.stderr)
        return fail(EXIT_USAGE, f"nothing was imported ({len(error.problems)} problem(s))")
    except LicenceError as error:
        return fail(EXIT_USAGE, str(error))
    except (OperationalError, ProgrammingError, DBAPIError) as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
        return fail(EXIT_FAILURE, f"database error: {reason} (check DATABASE_URL)")
    except (ArgumentError, NoSuchModuleError):
        return fail(EXIT_USAGE, "DATABASE_URL is not a database URL I can use (e.g. sqlite:///accessbot.db)")
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`accessbot grants list | head -1`): nobody is left to tell, so stop
        # quietly, as other Unix tools do, and point stdout at nothing so that the flush at exit does not
        # fail again (docs.python.org/3/library/signal.html#note-on-sigpipe).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILURE


def _readable(argv: Sequence[str]) -> list[str]:
    """The arguments, once each is known to be text. Bytes the terminal's encoding cannot decode reach
    Python as lone surrogates (PEP 383), which no database, file or terminal accepts later: refused here,
    for every command, with one line. Raises UsageError naming the argument's position."""
    for position, argument in enumerate(argv, start=1):
        try:
            argument.encode("utf-8")
        except UnicodeEncodeError:
            raise UsageError(
                f"argument {position} is not valid text in this terminal's encoding "
                "(check the locale, e.g. LANG=C.UTF-8)"
            ) from None
    return list(argv)
