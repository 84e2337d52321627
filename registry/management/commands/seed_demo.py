"""`manage.py seed_demo`: deterministic, idempotent demo data for every app.

Each app that has demo data exposes `<app>.demo.seed(...)`; this command runs them in order and
writes the logins to var/demo-credentials.json (git-ignored, mode 0600).
"""

import importlib.util
import json
import os

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.module_loading import import_string

# Later apps read what earlier ones created; the order matters.
EXTRA_SEEDERS = ["licensing.demo.seed", "access.demo.seed", "audit.demo.seed"]


def _known_passwords(data: dict) -> dict[str, str]:
    known = {u["username"]: u["password"] for u in data.get("users", {}).values()}
    for org in data.get("organisations", []):
        for key in ("admin", "operator"):
            if key in org:
                known[org[key]["username"]] = org[key]["password"]
    return known


class Command(BaseCommand):
    help = "Load deterministic demo data and write the demo logins to var/demo-credentials.json."

    def handle(self, *args, **options):
        from registry import demo as registry_demo

        credentials_path = settings.VAR_DIR / "demo-credentials.json"
        previous = json.loads(credentials_path.read_text()) if credentials_path.exists() else {}
        credentials = registry_demo.seed(_known_passwords(previous))
        for dotted in EXTRA_SEEDERS:
            if importlib.util.find_spec(dotted.rsplit(".", 1)[0]) is None:
                continue  # that app has no demo data yet
            import_string(dotted)(credentials=credentials, previous=previous, stdout=self.stdout)

        credentials_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = credentials_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(credentials, ensure_ascii=False, indent=2))
        os.chmod(tmp, 0o600)
        tmp.replace(credentials_path)
        self.stdout.write(self.style.SUCCESS(f"Demo data loaded; logins in {credentials_path}"))
