"""The roles of DOMAIN.md as Django groups.

Each app declares the model permissions its roles need in `<app>.permissions.ROLE_PERMISSIONS`;
`ensure_role_groups` merges them, so one role's rights are read in one place per app. The system,
security and audit administrators are kept apart (三员分立): no role holds two of their rights.
"""

from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.utils.module_loading import import_string

CLERK = "clerk"
APPROVER = "approver"
ARCHIVIST = "archivist"
SYSTEM_ADMIN = "system_admin"
SECURITY_ADMIN = "security_admin"
AUDIT_ADMIN = "audit_admin"
ORG_ADMIN = "org_admin"
ORG_OPERATOR = "org_operator"

GROUP_NAMES = {
    CLERK: "登记员",
    APPROVER: "审核员",
    ARCHIVIST: "档案管理员",
    SYSTEM_ADMIN: "系统管理员",
    SECURITY_ADMIN: "安全管理员",
    AUDIT_ADMIN: "审计管理员",
    ORG_ADMIN: "用证机构管理员",
    ORG_OPERATOR: "用证机构操作员",
}
COMMISSION_ROLES = [CLERK, APPROVER, ARCHIVIST, SYSTEM_ADMIN, SECURITY_ADMIN, AUDIT_ADMIN]
ORGANISATION_ROLES = [ORG_ADMIN, ORG_OPERATOR]


def role_permissions() -> dict[str, set[str]]:
    """`{role: {"app_label.codename", …}}` gathered from every app's permissions module."""
    merged: dict[str, set[str]] = {role: set() for role in GROUP_NAMES}
    for config in apps.get_app_configs():
        try:
            declared = import_string(f"{config.name}.permissions.ROLE_PERMISSIONS")
        except ImportError:
            continue
        for role, perms in declared.items():
            merged[role].update(perms)
    return merged


def ensure_role_groups() -> dict[str, Group]:
    """Create or update one group per role with exactly the declared permissions."""
    groups = {}
    for role, perms in role_permissions().items():
        group, _ = Group.objects.get_or_create(name=GROUP_NAMES[role])
        wanted = []
        for dotted in sorted(perms):
            app_label, codename = dotted.split(".", 1)
            wanted.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        group.permissions.set(wanted)
        groups[role] = group
    return groups


def user_has_role(user, role: str) -> bool:
    return user.is_authenticated and user.groups.filter(name=GROUP_NAMES[role]).exists()
