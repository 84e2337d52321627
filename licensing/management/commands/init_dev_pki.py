"""`manage.py init_dev_pki`: create the throw-away development PKI (kept if already valid)."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from licensing import pki


class Command(BaseCommand):
    help = (
        "Create a throw-away root CA, the commission signing certificate (PKCS#12) and a TSA "
        "certificate under PKI_DIR for development. An existing valid PKI is kept."
    )

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="recreate even if the existing PKI is valid")

    def handle(self, *args, force: bool = False, **options):
        # It only ever writes under PKI_DIR, so it cannot overwrite provisioned production keys
        # that the settings point at elsewhere (the notes below say when they do).
        dev = pki.default_pki()
        try:
            created = pki.ensure_dev_pki(dev, force=force)
        except (pki.DevPkiError, OSError) as exc:
            raise CommandError(f"could not create the development PKI in {dev.directory}: {exc}") from exc
        self.stdout.write(
            ("Created" if created else "Kept the existing valid") + f" development PKI in {dev.directory}"
        )
        self.stdout.write(f"Root certificate (trust this to validate licences): {dev.root_cert_path}")
        # Settings that point elsewhere win over the dev PKI; say so rather than let someone
        # wonder why signatures do not chain to the root just printed.
        if Path(settings.SIGNING_PKCS12_PATH) != dev.signing_pkcs12_path:
            self.stderr.write(f"Note: SIGNING_PKCS12_PATH is {settings.SIGNING_PKCS12_PATH}, not this PKI's key")
        if str(dev.root_cert_path) not in [str(p) for p in settings.SIGNING_TRUST_ROOTS]:
            self.stderr.write("Note: SIGNING_TRUST_ROOTS does not include this root certificate")
