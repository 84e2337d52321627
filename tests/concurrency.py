"""Run work in several threads released at the same moment, as concurrent requests or workers."""

import threading

from django.db import connections


def run_at_once(work, args_per_thread: list[tuple], timeout: float = 120) -> list:
    """Call `work(*args)` in one thread per entry of `args_per_thread`, all started together.

    Each thread closes its own database connections when done. Returns the results in the
    order the threads finished; the first exception raised in a thread is raised here.
    """
    barrier = threading.Barrier(len(args_per_thread))
    results, errors = [], []

    def run(args):
        try:
            barrier.wait()
            results.append(work(*args))
        except Exception as exc:  # noqa: BLE001 - raised again by the calling thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(args,)) for args in args_per_thread]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    if errors:
        raise errors[0]
    return results
