"""Demo licences in every state, built through the services on the registry's demo data.

Each scenario is keyed by its property unit and kind and runs once: a re-run finds the licence
and leaves it alone. Licences that must be VALID before a later move are signed in-process (with
the development PKI); the signing task enqueued on commit then finds them signed and does nothing.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction

from audit.context import acting_as
from licensing import services, tasks
from licensing.models import CancellationReason, CoOwnership, License, LicenseHolder, LicenseStatus
from registry.models import HolderKind, IdType, Issuer, LicenseKind, LicenseType, PropertyUnit
from registry.services import holder_create, holder_find

COMMISSION_USCC = "11110000MB0000001Y"
TYPE_CODES = {LicenseKind.CERTIFICATE: "11100000MB03271699001", LicenseKind.CERTIFICATION: "11100000MB03271699022"}
BANK = ("中国工商银行股份有限公司北京市分行", "91110000802100433B")


@dataclass
class Scenario:
    unit: str
    holders: list[tuple[str, str]]  # (ID number, share)
    then: str = ""  # what happens after signing
    kind: str = LicenseKind.CERTIFICATE
    co_ownership: str = CoOwnership.SOLE
    obligors: list[str] = field(default_factory=list)
    extra: dict = field(default_factory=dict)


SCENARIOS = [
    Scenario("110105003001GB00012F00031201", [("110105199003071239", ""), ("11010819850101002X", "")],
             co_ownership=CoOwnership.JOINT),
    Scenario("110105003001GB00012F00031201", [(BANK[1], "")], kind=LicenseKind.CERTIFICATION,
             obligors=["110105199003071239"],
             extra={"right_or_matter": "抵押权", "secured_amount": Decimal("2800000.00"),
                    "encumbered_certificate_number": ""}),
    Scenario("110105012004GB00231F00080602", [("110105196209184526", "")], then="suspend"),
    Scenario("110108012003GB00305F00020502", [("110108197612300041", "60%"), ("110106199511111117", "40%")],
             co_ownership=CoOwnership.SHARES),
    Scenario("110108012003GB00305F00020502", [(BANK[1], "")], kind=LicenseKind.CERTIFICATION,
             obligors=["110108197612300041", "110106199511111117"], then="release",
             extra={"right_or_matter": "抵押权", "secured_amount": Decimal("1200000.00")}),
    Scenario("110101001002GB00047F00010301", [("110101200001010010", "")], then="transfer"),
    Scenario("110102005001GB00118F00050801", [("91110105MA00000012", "")], then="replace"),
    Scenario("110106008001GB00210F00070603", [("110102198807150027", "")], then="revoke"),
    Scenario("110112106204GB00521F00120102", [("110112198202280024", "")], then="request_cancellation"),
    Scenario("110114002005GB00033W00000000", [("91110114MA0000004C", "")], then="keep_draft"),
    Scenario("110115001003GB00402F00030101", [("H12345678", "")], then="leave_to_worker"),
]  # fmt: skip
TRANSFER_BUYER = "110115200304120063"


def _holder(id_number: str):
    holder = holder_find(id_number).first()
    if holder is None and id_number == BANK[1]:
        holder = holder_create(kind=HolderKind.ORGANISATION, name=BANK[0], id_type=IdType.USCC, id_number=BANK[1])
    if holder is None:
        raise LookupError(f"demo holder {id_number[:6]}… missing: run the registry demo first")
    return holder


def _sign_now(license: License) -> License:
    tasks.sign_license_task.apply(args=[license.pk])
    license.refresh_from_db()
    if license.status != LicenseStatus.VALID:
        raise RuntimeError(f"demo licence {license.pk} could not be signed: {license.signing_error}")
    return license


def _run(scenario: Scenario, clerk, approver) -> str:
    unit = PropertyUnit.objects.get(unit_number=scenario.unit)
    if License.objects.filter(property_unit=unit, kind=scenario.kind).exists():
        return "kept"
    parties = [services.Party(_holder(n), share=share) for n, share in scenario.holders]
    parties += [services.Party(_holder(n), LicenseHolder.Role.OBLIGOR) for n in scenario.obligors]
    draft = services.license_create_draft(
        actor=clerk,
        kind=scenario.kind,
        license_type=LicenseType.objects.get(code=TYPE_CODES[scenario.kind]),
        issuer=Issuer.objects.get(uscc=COMMISSION_USCC),
        property_unit=unit,
        parties=parties,
        co_ownership=scenario.co_ownership,
        **scenario.extra,
    )
    if scenario.then == "keep_draft":
        return "draft"
    license = services.license_issue(license=draft, actor=clerk)
    if scenario.then == "leave_to_worker":
        return "pending signature"
    license = _sign_now(license)
    match scenario.then:
        case "suspend":
            services.license_suspend(license=license, actor=clerk, note="异议登记审查中")
        case "release":
            services.license_cancel(license=license, actor=clerk, reason=CancellationReason.MORTGAGE_RELEASE)
        case "transfer":
            buyer = services.Party(_holder(TRANSFER_BUYER))
            _sign_now(services.license_transfer(license=license, actor=clerk, buyers=[buyer], note="存量房买卖"))
        case "replace":
            new = services.license_replace(
                license=license, actor=clerk, reason=CancellationReason.REPLACEMENT, note="证书污损换发"
            )
            _sign_now(new)
        case "revoke":
            services.license_revoke(license=license, actor=approver, note="依行政复议决定撤销登记")
        case "request_cancellation":
            services.license_cancel_request(license=license, actor=clerk, note="权利人姓名录入错误，申请注销重发")
    return scenario.then or "valid"


def seed(*, credentials: dict, previous: dict, stdout) -> None:
    from licensing.pki import ensure_dev_pki

    ensure_dev_pki()
    User = get_user_model()
    clerk = User.objects.get(username=credentials["users"]["clerk"]["username"])
    approver = User.objects.get(username=credentials["users"]["approver"]["username"])
    outcomes = []
    for scenario in SCENARIOS:
        with transaction.atomic(), acting_as(clerk):
            outcomes.append(_run(scenario, clerk, approver))
    stdout.write(f"Demo licences: {', '.join(outcomes)}")
