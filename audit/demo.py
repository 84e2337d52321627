"""Demo state for the auditors' pages: a signed checkpoint of the chain so far and a verification.

Called by `manage.py seed_demo` after the other apps (whose demo actions wrote chain events).
Idempotent: a checkpoint is signed only when the chain moved; each run adds one verification.
"""

from audit.checkpoints import create_checkpoint
from audit.context import acting_as_system
from audit.services import store_verification
from audit.signing import CommissionKeyUnavailable
from audit.verification import verify_chain


def seed(*, credentials=None, previous=None, stdout=None):
    with acting_as_system("seed_demo"):
        try:
            checkpoint = create_checkpoint()
        except CommissionKeyUnavailable as exc:
            checkpoint = None
            if stdout is not None:
                stdout.write(f"audit: no checkpoint signed ({exc})")
        result = verify_chain()
        store_verification(result, source="seed_demo")
    if stdout is not None:
        signed = f", checkpoint at #{checkpoint.seq}" if checkpoint else ""
        state = "intact" if result.ok else f"BROKEN at #{result.first_bad_seq}: {result.problem}"
        stdout.write(f"audit: chain of {result.events_checked} events {state}{signed}; auditors' pages at /audit/")
