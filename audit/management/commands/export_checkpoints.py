"""`manage.py export_checkpoints [--output FILE] [--since SEQ]`: signed checkpoints as JSON lines.

Kept off site, the file lets `verify_audit --checkpoints FILE` prove the chain even if the
database's own checkpoints were removed with the events they cover.
"""

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from audit.context import SystemCommandMixin
from audit.models import AuditCheckpoint
from audit.verification import Checkpoint


class Command(SystemCommandMixin, BaseCommand):
    help = "Write the signed audit checkpoints as JSON lines, for keeping off site."

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", metavar="FILE", help="file to write (default: standard output)")
        parser.add_argument("--since", type=int, default=0, metavar="SEQ", help="only checkpoints after this seq")

    def handle(self, *args, output, since, **options):
        rows = AuditCheckpoint.objects.filter(seq__gt=since).order_by("seq", "created_at")
        try:
            handle = open(output, "w", encoding="utf-8") if output else sys.stdout  # noqa: SIM115
        except OSError as exc:
            raise CommandError(f"cannot write {output}: {exc.strerror}") from exc
        count = 0
        try:
            for checkpoint in rows.iterator(chunk_size=1000):
                handle.write(json.dumps(Checkpoint.from_model(checkpoint).as_json(), sort_keys=True) + "\n")
                count += 1
        finally:
            if output:
                handle.close()
        if output:
            self.stderr.write(f"{count} checkpoints written to {output}")
