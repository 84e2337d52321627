"""Change records (django-auditlog) for rows a service has just locked, without reading them again.

auditlog's update receiver re-reads the row before every save to find what changed: one more
query and one more model built per lifecycle step. A service that has just locked the row with
`select_for_update` already holds that state, read in the same transaction, so it keeps a copy
(`remember_state`) and the receiver installed by `diff_against_remembered_state` diffs against
it. A save without a remembered state falls back to auditlog's own receiver.
"""

import copy

from auditlog import get_logentry_model
from auditlog.context import auditlog_disabled
from auditlog.diff import model_instance_diff
from auditlog.receivers import log_update
from auditlog.registry import auditlog
from django.conf import settings
from django.db.models.signals import pre_save

_REMEMBERED = "_state_before_change"


def remember_state(instance):
    """Keep the instance's current (just locked) state for the change record of its next save."""
    setattr(instance, _REMEMBERED, copy.copy(instance))
    return instance


def _log_update(sender, instance, **kwargs):
    before = instance.__dict__.pop(_REMEMBERED, None)
    if before is None or instance._state.adding or instance.pk is None:
        return log_update(sender, instance, **kwargs)
    if auditlog_disabled.get(False) or (kwargs.get("raw") and settings.AUDITLOG_DISABLE_ON_RAW_SAVE):
        return None
    changes = model_instance_diff(
        before,
        instance,
        fields_to_check=kwargs.get("update_fields"),
        use_json_for_changes=settings.AUDITLOG_STORE_JSON_CHANGES,
    )
    if changes:
        entries = get_logentry_model()
        entries.objects.log_create(instance, action=entries.Action.UPDATE, changes=changes)
    return None


def diff_against_remembered_state(model) -> None:
    """Swap auditlog's update receiver of a registered model for `_log_update`."""
    pre_save.disconnect(sender=model, dispatch_uid=auditlog._dispatch_uid(pre_save, log_update))
    pre_save.connect(_log_update, sender=model, dispatch_uid=f"audit.changelog.{model._meta.label_lower}")
