"""Who may see the audit trail: the one place that decides. Referenced by registry.roles.

Only the audit administrator role (审计管理员). Superusers and the system and security
administrators are refused on purpose: the three administrator roles are kept apart (三员分立),
and whoever runs the system must not be the one who reviews its trail. Nobody — superusers
included — may add, change or delete audit records.
"""

from registry.roles import AUDIT_ADMIN, user_has_role

ROLE_PERMISSIONS = {
    AUDIT_ADMIN: {
        "audit.view_auditevent",
        "audit.view_auditcheckpoint",
        "audit.view_auditverification",
    },
}


def can_view_audit(user) -> bool:
    return bool(user is not None and user.is_active and user_has_role(user, AUDIT_ADMIN))
