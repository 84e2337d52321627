"""`manage.py verify_audit [--checkpoints FILE]`: exit 0 when the audit chain is intact.

Otherwise exits 1 and names the first bad sequence number. The outcome is also stored for the
auditors' chain-state page (unless --no-record).
"""

from django.core.management.base import BaseCommand, CommandError

from audit.context import SystemCommandMixin
from audit.services import store_verification
from audit.verification import read_checkpoint_file, verify_chain


class Command(SystemCommandMixin, BaseCommand):
    help = "Recompute the audit hash chain and check it against the signed checkpoints."

    def add_arguments(self, parser):
        parser.add_argument(
            "--checkpoints",
            action="append",
            default=[],
            metavar="FILE",
            help="also check against checkpoints exported earlier (JSON lines); may be repeated",
        )
        parser.add_argument("--chunk-size", type=int, default=5000, help="events fetched per database round trip")
        parser.add_argument("--no-record", action="store_true", help="do not store the outcome")

    def handle(self, *args, checkpoints, chunk_size, no_record, **options):
        extra = []
        for path in checkpoints:
            try:
                extra += read_checkpoint_file(path)
            except OSError as exc:
                raise CommandError(f"cannot read checkpoint file {path}: {exc.strerror}") from exc
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
        result = verify_chain(extra_checkpoints=extra, chunk_size=chunk_size)
        if not no_record:
            store_verification(result, source="verify_audit")
        for note in result.notes:
            self.stderr.write(f"note: {note}")
        if not result.ok:
            raise CommandError(
                f"audit chain broken at #{result.first_bad_seq}: {result.problem} "
                f"({result.events_checked} events verified before it)",
                returncode=1,
            )
        self.stdout.write(
            f"audit chain intact: {result.events_checked} events, {result.checkpoints_checked} checkpoints, "
            f"head #{result.last_seq} {result.last_hash} ({result.duration_ms} ms)"
        )
