"""``manage.py restflow_types MODULE [MODULE ...] --out FILE [--check]``.

Writes the ``TypedDict`` s of every restflow serializer in the modules (``...In``: what
``validated_data`` holds; ``...Out``: what ``data`` holds) to ``FILE``, from the
serializers' real fields. ``--check`` writes nothing and fails with a diff when ``FILE``
is not what the command would write (for CI).
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Literal

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from restflow._typegen import render_module


class Command(BaseCommand):
    help = "Write the TypedDicts (TIn/TOut) of the restflow serializers in the given modules."
    # restflow.W001 compares serializers with these very TypedDicts: a stale file must
    # not keep the command that rewrites it from running.
    requires_system_checks: list[str] | tuple[str, ...] | Literal["__all__"] = ()

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("modules", nargs="+", metavar="MODULE", help="dotted module names")
        parser.add_argument("--out", required=True, metavar="FILE", help="the module to write")
        parser.add_argument(
            "--check",
            action="store_true",
            help="write nothing; exit non-zero with a diff if FILE is stale",
        )

    def handle(self, *args: object, **options: Any) -> None:
        modules: list[str] = options["modules"]
        out = Path(options["out"])
        try:
            source = render_module(modules)
        except (ImportError, ImproperlyConfigured) as exc:
            raise CommandError(str(exc)) from exc
        current = out.read_text(encoding="utf-8") if out.exists() else ""
        if options["check"]:
            if current != source:
                diff = difflib.unified_diff(
                    current.splitlines(keepends=True),
                    source.splitlines(keepends=True),
                    fromfile=str(out),
                    tofile=f"{out} (restflow_types)",
                )
                self.stdout.write("".join(diff))
                raise CommandError(
                    f"{out} is stale: run manage.py restflow_types {' '.join(modules)} --out {out}"
                )
            self.stdout.write(f"{out} is up to date.")
            return
        if current != source:
            out.write_text(source, encoding="utf-8")
            self.stdout.write(f"Wrote {out}.")
        else:
            self.stdout.write(f"{out} is up to date.")
