"""Demo data for the access app: one API key per demo organisation, and grants on demo licences.

Idempotent: a key from the previous credentials file is kept while it still verifies; grants
are only added for (organisation, licence) pairs that have none yet. Each organisation gets a
different set of licences, and some grants are revoked or expired, so the API shows every case.
"""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from access import services
from access.models import Authorisation, StatutoryGrant
from licensing.models import License, LicenseHolder, LicenseStatus
from registry.models import OrganisationType, RequestingOrganisation


def _key_for(org, entry, previous_entry, sysadmin, stdout):
    old = (previous_entry or {}).get("api_key")
    if old:
        key = services.api_key_verify(old)
        if key is not None and key.organisation_id == org.pk:
            return old
    operator = get_user_model().objects.get(username=entry["operator"]["username"])
    _, plaintext = services.api_key_issue(
        organisation=org,
        user=operator,
        label="演示密钥",
        expires_at=timezone.now() + timedelta(days=365),
        actor=sysadmin,
    )
    stdout.write(f"access: issued an API key for {org.name}")
    return plaintext


def _grant(org, license, index, sysadmin, now):
    if (
        Authorisation.objects.filter(organisation=org, license=license).exists()
        or StatutoryGrant.objects.filter(organisation=org, license=license).exists()
    ):
        return None
    purposes = list(org.purposes.all())
    if org.org_type in (OrganisationType.COURT, OrganisationType.GOVERNMENT):
        return services.statutory_access_grant(
            license=license,
            organisation=org,
            legal_document_number=f"(2026)京0105民初{1000 + index}号",
            purposes=purposes,
            valid_until=now + timedelta(days=180),
            actor=sysadmin,
        )
    party = LicenseHolder.objects.filter(license=license, role=LicenseHolder.Role.HOLDER).first()
    if party is None:
        return None
    return services.authorisation_grant(
        license=license,
        organisation=org,
        holder=party.holder,
        purposes=purposes,
        valid_until=now + timedelta(days=90),
        max_uses=20,
        actor=sysadmin,
    )


@transaction.atomic
def seed(*, credentials, previous, stdout):
    User = get_user_model()
    sysadmin = User.objects.get(username=credentials["users"]["system_admin"]["username"])
    previous_orgs = {o.get("name"): o for o in (previous or {}).get("organisations", [])}
    organisations = []
    for entry in credentials.get("organisations", []):
        org = RequestingOrganisation.objects.get(name=entry["name"])
        entry["api_key"] = _key_for(org, entry, previous_orgs.get(entry["name"]), sysadmin, stdout)
        organisations.append(org)

    licenses = list(License.objects.filter(status=LicenseStatus.VALID, identifier__isnull=False).order_by("id")[:60])
    if not licenses:
        stdout.write("access: no issued licences yet (licensing demo data missing), so no grants were made")
        return
    now = timezone.now()
    made = 0
    for n, org in enumerate(organisations):
        # A different slice per organisation, overlapping a little so that some licences are shared.
        chosen = [lic for i, lic in enumerate(licenses) if i % len(organisations) == n or i % 5 == 0]
        for i, license in enumerate(chosen):
            grant = _grant(org, license, i, sysadmin, now)
            if grant is None:
                continue
            made += 1
            if i % 4 == 1:
                if isinstance(grant, Authorisation):
                    services.authorisation_revoke(
                        authorisation=grant, actor=sysadmin, by_holder=True, reason="演示：权利人撤回"
                    )
                else:
                    services.statutory_access_revoke(grant=grant, actor=sysadmin, reason="演示：案件已结")
            elif i % 4 == 2:
                # Demo only: show a grant whose period has run out (services never write a past date).
                type(grant).objects.filter(pk=grant.pk).update(valid_until=now - timedelta(days=1))
    stdout.write(f"access: {made} grants added (some revoked, some expired) for {len(organisations)} organisations")
