from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = "登记基础数据"

    def ready(self):
        # Infrastructure signals only (DESIGN.md rule 4): the change history of registry data.
        from auditlog.registry import auditlog

        from registry import models

        for model in (models.District, models.LicenseType, models.Issuer, models.PropertyUnit, models.Purpose):
            auditlog.register(model)
        auditlog.register(models.RequestingOrganisation, m2m_fields={"purposes"})
        auditlog.register(models.OrganisationMember)
        # The ciphertext and the blind index never enter a change record: one is the secret in
        # another form, the other would let anyone holding the index key confirm a guessed number.
        # The masked form is enough to see that the number changed. The phone is masked by auditlog.
        auditlog.register(
            models.Holder,
            exclude_fields=["id_number_ciphertext", "id_number_index"],
            mask_fields=["phone"],
        )
