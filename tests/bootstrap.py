"""Loaded with `-p tests.bootstrap` before Django is configured.

Every test run gets its own VAR_DIR (secrets, media, PKI, the embedded broker's folders), so a
running `make demo` or another checkout's test run never shares files or queued tasks with it.
"""

import os
import tempfile

os.environ["VAR_DIR"] = tempfile.mkdtemp(prefix="licences-test-")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
