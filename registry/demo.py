"""Deterministic demo data for the registry: role users, organisations and their purposes,
property units in several Beijing districts, and persons and companies holding them.

Idempotent: records are looked up by their natural keys (unit number; ID type + blind index of
the ID number) and updated in place. Passwords are generated once and kept in
var/demo-credentials.json, so a re-run keeps the logins working and no password is ever written
into the repository. Every code below is fictional but carries a correct check character.
"""

import datetime
import secrets
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from registry import roles, services
from registry.models import (
    HolderKind,
    IdType,
    OrganisationMember,
    OrganisationType,
    PropertyUnit,
    Purpose,
    RequestingOrganisation,
)

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


# (name, ID type, ID number, phone, address). Resident IDs follow GB 11643 (birth date, gender
# digit, check character); company codes follow GB 32100.
PERSONS = [
    ("张伟", IdType.RESIDENT_ID, "110105199003071239", "13800138001", "北京市朝阳区建国路88号3号楼1201"),
    ("欧阳娜娜", IdType.RESIDENT_ID, "11010819850101002X", "13800138002", "北京市海淀区中关村南大街5号"),
    ("李娜", IdType.RESIDENT_ID, "110102198807150027", "13800138003", "北京市西城区金融大街15号"),
    ("王芳", IdType.RESIDENT_ID, "110108197612300041", "13800138004", "北京市海淀区学院路30号"),
    ("刘洋", IdType.RESIDENT_ID, "110106199511111117", "13800138005", "北京市丰台区丽泽路16号"),
    ("陈静", IdType.RESIDENT_ID, "110112198202280024", "13800138006", "北京市通州区新华大街100号"),
    ("司马光辉", IdType.RESIDENT_ID, "110114197905050039", "13800138007", "北京市昌平区府学路20号"),
    ("赵磊", IdType.RESIDENT_ID, "110101200001010010", "13800138008", "北京市东城区东直门南大街1号"),
    ("孙秀英", IdType.RESIDENT_ID, "110105196209184526", "13800138009", "北京市朝阳区望京街10号"),
    ("周婷", IdType.RESIDENT_ID, "110115200304120063", "13800138010", "北京市大兴区兴华大街2号"),
    ("陈家明", IdType.HK_MACAO_PERMIT, "H12345678", "13800138011", "香港特别行政区九龙弥敦道100号"),
]
COMPANIES = [
    ("北京京华置业有限公司", "91110105MA00000012", "010-65001001", "北京市朝阳区东三环中路1号"),
    ("北京海淀科创发展有限公司", "91110108MA0000002G", "010-62001002", "北京市海淀区海淀大街38号"),
    ("北京通州城市建设投资有限公司", "91110112MA0000003C", "010-69001003", "北京市通州区运河东大街57号"),
    ("北京昌平智造产业园有限公司", "91110114MA0000004C", "010-60701004", "北京市昌平区科技园区超前路9号"),
]

_D = datetime.date
# unit number, location, right type, right nature, use, land area, building area, term start, term end, other status
PROPERTY_UNITS = [
    ("110105003001GB00012F00031201", "北京市朝阳区建国路88号3号楼12层1201", "国有建设用地使用权/房屋所有权",
     "出让/商品房", "城镇住宅用地/住宅", "36.52", "89.37", _D(2006, 3, 1), _D(2076, 2, 28),
     "专有建筑面积 72.15㎡，分摊建筑面积 17.22㎡"),
    ("110105012004GB00231F00080602", "北京市朝阳区望京街10号院8号楼6层602", "国有建设用地使用权/房屋所有权",
     "出让/商品房", "城镇住宅用地/住宅", "28.10", "76.84", _D(2003, 7, 1), _D(2073, 6, 30), ""),
    ("110108012003GB00305F00020502", "北京市海淀区中关村南大街5号院2号楼5层502", "国有建设用地使用权/房屋所有权",
     "出让/商品房", "城镇住宅用地/住宅", "31.06", "102.45", _D(2010, 9, 15), _D(2080, 9, 14), ""),
    ("110101001002GB00047F00010301", "北京市东城区东直门南大街1号1号楼3层301", "国有建设用地使用权/房屋所有权",
     "划拨/房改房", "城镇住宅用地/住宅", "18.77", "64.20", None, None, "已购公房，上市交易需补缴土地出让金"),
    ("110102005001GB00118F00050801", "北京市西城区金融大街15号5号楼8层801", "国有建设用地使用权/房屋所有权",
     "出让/商品房", "商务金融用地/办公", "120.40", "356.90", _D(2004, 1, 1), _D(2053, 12, 31), ""),
    ("110106008001GB00210F00070603", "北京市丰台区丽泽路16号院7号楼6层603", "国有建设用地使用权/房屋所有权",
     "出让/商品房", "城镇住宅用地/住宅", "25.33", "88.16", _D(2015, 5, 20), _D(2085, 5, 19), ""),
    ("110112106204GB00521F00120102", "北京市通州区新华大街100号12号楼1层102", "国有建设用地使用权/房屋所有权",
     "出让/商品房", "城镇住宅用地/住宅", "40.02", "118.73", _D(2012, 11, 1), _D(2082, 10, 31), ""),
    ("110114002005GB00033W00000000", "北京市昌平区科技园区超前路9号", "国有建设用地使用权",
     "出让", "工业用地", "15230.00", None, _D(2018, 4, 1), _D(2068, 3, 31), ""),
    ("110115001003GB00402F00030101", "北京市大兴区兴华大街2号院3号楼1层101", "国有建设用地使用权/房屋所有权",
     "出让/商品房", "城镇住宅用地/住宅", "33.80", "95.62", _D(2016, 8, 8), _D(2086, 8, 7), ""),
]  # fmt: skip


def seed_registry_data(actor=None) -> dict:
    """Property units and holders; returns counts. Safe to run again: updates in place."""
    units = 0
    for number, location, right_type, nature, use, land, building, start, end, other in PROPERTY_UNITS:
        values = {
            "location": location,
            "right_type": right_type,
            "right_nature": nature,
            "use": use,
            "land_area": Decimal(land) if land else None,
            "building_area": Decimal(building) if building else None,
            "term_start": start,
            "term_end": end,
            "other_status": other,
        }
        existing = PropertyUnit.objects.filter(unit_number=number).first()
        if existing:
            services.property_unit_update(unit=existing, actor=actor, **values)
        else:
            services.property_unit_create(unit_number=number, actor=actor, **values)
        units += 1
    holders = 0
    parties = [(HolderKind.PERSON, *p) for p in PERSONS] + [
        (HolderKind.ORGANISATION, name, IdType.USCC, code, phone, address) for name, code, phone, address in COMPANIES
    ]
    for kind, name, id_type, number, phone, address in parties:
        existing = services.holder_find(number, id_type).first()
        if existing:
            services.holder_update(holder=existing, kind=kind, name=name, phone=phone, address=address, actor=actor)
        else:
            services.holder_create(
                kind=kind, name=name, id_type=id_type, id_number=number, phone=phone, address=address, actor=actor
            )
        holders += 1
    return {"property_units": units, "holders": holders}


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
    seed_registry_data()
    return {"users": users, "organisations": organisations}
