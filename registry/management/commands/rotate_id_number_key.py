"""`manage.py rotate_id_number_key`: re-encrypt every holder's ID number under the current key.

Run after putting a new key first in ID_NUMBER_KEYS (keep the old ones until this has finished).
It also recomputes the blind index, so a changed ID_NUMBER_INDEX_KEY is taken up the same way.
Rows are re-written in small transactions with the row locked; an interrupted run can simply be
started again. No plaintext is printed.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from registry import crypto
from registry.models import Holder


class Command(BaseCommand):
    help = "Re-encrypt holder ID numbers under the first key of ID_NUMBER_KEYS and refresh the blind index."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=200)

    def handle(self, *args, batch_size, **options):
        current = crypto.current_key_id()
        rewritten = unchanged = 0
        last_pk = 0
        while True:
            with transaction.atomic():
                batch = list(Holder.objects.select_for_update().filter(pk__gt=last_pk).order_by("pk")[:batch_size])
                if not batch:
                    break
                for holder in batch:
                    last_pk = holder.pk
                    try:
                        plain = crypto.reveal_id_number(holder)
                    except crypto.DecryptionError as exc:
                        raise CommandError(f"holder {holder.pk}: {exc}") from None
                    index = crypto.blind_index(holder.id_type, plain)
                    if crypto.key_id_of(holder.id_number_ciphertext) == current and index == holder.id_number_index:
                        unchanged += 1
                        continue
                    # queryset.update(): a key change is not a change of the holder's data, so it
                    # is kept out of the auditlog change history (which excludes these fields anyway).
                    Holder.objects.filter(pk=holder.pk).update(
                        id_number_ciphertext=crypto.encrypt_id_number(holder.id_type, plain),
                        id_number_index=index,
                    )
                    rewritten += 1
        self.stdout.write(f"key={current} rewritten={rewritten} unchanged={unchanged}")
