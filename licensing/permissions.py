"""The one place that decides who may do what to licences (commission side).

Services call `require`; admin and API ask `can`. Organisation access to individual licences
(guardian object permissions) is decided in `licensing.access` (the API's part).
"""

from django.core.exceptions import PermissionDenied

_LICENSE_READ = {"licensing.view_license", "licensing.view_licenseholder", "licensing.view_statusevent"}

ROLE_PERMISSIONS = {
    "clerk": _LICENSE_READ
    | {
        "licensing.add_license",
        "licensing.change_license",
        "licensing.add_licenseholder",
        "licensing.change_licenseholder",
        "licensing.delete_licenseholder",
        "licensing.issue_license",
        "licensing.cancel_license",
        "licensing.suspend_license",
        "licensing.replace_license",
        "licensing.download_license_file",
        "licensing.view_cancellationrequest",
        "licensing.add_cancellationrequest",
    },
    "approver": _LICENSE_READ
    | {
        "licensing.approve_cancellation",
        "licensing.revoke_license",
        "licensing.download_license_file",
        "licensing.view_cancellationrequest",
        "licensing.change_cancellationrequest",
    },
    "archivist": _LICENSE_READ
    | {"licensing.file_license", "licensing.download_license_file", "licensing.view_archivepackage"},
    "audit_admin": _LICENSE_READ | {"licensing.view_cancellationrequest", "licensing.view_archivepackage"},
}

ACTION_PERMISSIONS = {
    "create_draft": "licensing.add_license",
    "issue": "licensing.issue_license",
    "cancel": "licensing.cancel_license",
    "cancel_request": "licensing.add_cancellationrequest",
    "cancel_approve": "licensing.approve_cancellation",
    "revoke": "licensing.revoke_license",
    "suspend": "licensing.suspend_license",
    "reinstate": "licensing.suspend_license",
    "replace": "licensing.replace_license",
    "transfer": "licensing.replace_license",
    "file": "licensing.file_license",
    "download": "licensing.download_license_file",
}


def can(actor, action: str) -> bool:
    """`actor=None` is the system itself (a task or a command acting on its own account)."""
    if actor is None:
        return True
    return actor.is_active and actor.has_perm(ACTION_PERMISSIONS[action])


def require(actor, action: str) -> None:
    if not can(actor, action):
        raise PermissionDenied(f"用户 {actor} 无权执行此操作（{ACTION_PERMISSIONS[action]}）")
