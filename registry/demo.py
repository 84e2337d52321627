"""Deterministic demo data for the registry: role users, organisations and their purposes.

Idempotent: records are looked up by their natural keys and updated in place. Passwords are
generated once and kept in var/demo-credentials.json, so a re-run keeps the logins working and
no password is ever written into the repository.
"""

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from registry import roles
from registry.models import OrganisationMember, OrganisationType, Purpose, RequestingOrganisation

PURPOSES = [
    ("MORTGAGE_LOAN", "抵押贷款审查", Purpose.Basis.CONSENT),
    ("NOTARISATION", "公证事项办理", Purpose.Basis.CONSENT),
    ("LITIGATION", "诉讼与执行", Purpose.Basis.LEGAL),
    ("GOVERNMENT_SERVICE", "政务服务", Purpose.Basis.LEGAL),
]

COMMISSION_USERS = {
    roles.CLERK: ("clerk", "王登记"),
    roles.APPROVER: ("approver", "李审核"),
    roles.ARCHIVIST: ("archivist", "赵档案"),
    roles.SYSTEM_ADMIN: ("sysadmin", "钱系统"),
    roles.SECURITY_ADMIN: ("secadmin", "孙安全"),
    roles.AUDIT_ADMIN: ("auditor", "周审计"),
}

ORGANISATIONS = [
    {
        "key": "bank",
        "name": "中国工商银行股份有限公司北京市分行",
        "uscc": "91110000802100433B",
        "org_type": OrganisationType.BANK,
        "purposes": ["MORTGAGE_LOAN"],
    },
    {
        "key": "notary",
        "name": "北京市长安公证处",
        "uscc": "12110000MB0000002Y",
        "org_type": OrganisationType.NOTARY,
        "purposes": ["NOTARISATION"],
    },
    {
        "key": "court",
        "name": "北京市朝阳区人民法院",
        "uscc": "11110105MB0000004M",
        "org_type": OrganisationType.COURT,
        "purposes": ["LITIGATION"],
    },
]


def _password_for(username: str, known: dict[str, str]) -> str:
    return known.get(username) or secrets.token_urlsafe(12)


def _user(username: str, full_name: str, password: str, *, staff: bool, role: str):
    User = get_user_model()
    user, _ = User.objects.get_or_create(username=username)
    user.first_name = full_name
    user.is_staff = staff
    user.is_superuser = False
    user.is_active = True
    user.set_password(password)
    user.save()
    user.groups.set([Group.objects.get(name=roles.GROUP_NAMES[role])])
    return user


@transaction.atomic
def seed(known_passwords: dict[str, str]) -> dict:
    """Create the registry demo data; returns the credentials part of demo-credentials.json."""
    roles.ensure_role_groups()
    purposes = {}
    for code, name, basis in PURPOSES:
        purposes[code], _ = Purpose.objects.update_or_create(code=code, defaults={"name": name, "basis": basis})

    users = {}
    for role, (username, full_name) in COMMISSION_USERS.items():
        password = _password_for(username, known_passwords)
        _user(username, full_name, password, staff=True, role=role)
        users[role] = {"username": username, "password": password}

    organisations = []
    for spec in ORGANISATIONS:
        org, _ = RequestingOrganisation.objects.update_or_create(
            uscc=spec["uscc"], defaults={"name": spec["name"], "org_type": spec["org_type"]}
        )
        org.purposes.set([purposes[c] for c in spec["purposes"]])
        entry = {"name": org.name, "type": org.org_type}
        for member_role, role in (
            (OrganisationMember.Role.ADMIN, roles.ORG_ADMIN),
            (OrganisationMember.Role.OPERATOR, roles.ORG_OPERATOR),
        ):
            username = f"{spec['key']}_{'admin' if member_role == OrganisationMember.Role.ADMIN else 'operator'}"
            password = _password_for(username, known_passwords)
            # Organisation administrators manage their own users and keys in the admin.
            user = _user(username, username, password, staff=member_role == OrganisationMember.Role.ADMIN, role=role)
            OrganisationMember.objects.update_or_create(user=user, defaults={"organisation": org, "role": member_role})
            if member_role == OrganisationMember.Role.ADMIN:
                org.administrator = user
                org.save(update_fields=["administrator"])
            entry["admin" if member_role == OrganisationMember.Role.ADMIN else "operator"] = {
                "username": username,
                "password": password,
            }
        organisations.append(entry)
    return {"users": users, "organisations": organisations}
