"""Reference data every installation needs: the 16 Beijing districts (GB/T 2260), the two
licence types of the GB/T 36902 catalogue and the commission as the issuer."""

from django.db import migrations

# Copied, not imported: a migration must keep working when the application code changes later.
DISTRICTS = [
    ("110101", "东城区"),
    ("110102", "西城区"),
    ("110105", "朝阳区"),
    ("110106", "丰台区"),
    ("110107", "石景山区"),
    ("110108", "海淀区"),
    ("110109", "门头沟区"),
    ("110111", "房山区"),
    ("110112", "通州区"),
    ("110113", "顺义区"),
    ("110114", "昌平区"),
    ("110115", "大兴区"),
    ("110116", "怀柔区"),
    ("110117", "平谷区"),
    ("110118", "密云区"),
    ("110119", "延庆区"),
]
LICENSE_TYPES = [
    ("11100000MB03271699001", "不动产权证书", "CERTIFICATE"),
    ("11100000MB03271699022", "不动产登记证明", "CERTIFICATION"),
]
COMMISSION = {
    "uscc": "11110000MB0000001Y",
    "name": "北京市规划和自然资源委员会",
    "seal_name": "北京市规划和自然资源委员会不动产登记专用章",
}


def load(apps, schema_editor):
    District = apps.get_model("registry", "District")
    LicenseType = apps.get_model("registry", "LicenseType")
    Issuer = apps.get_model("registry", "Issuer")
    for code, name in DISTRICTS:
        District.objects.update_or_create(code=code, defaults={"name": name})
    for code, name, kind in LICENSE_TYPES:
        LicenseType.objects.update_or_create(code=code, defaults={"name": name, "kind": kind})
    Issuer.objects.update_or_create(
        uscc=COMMISSION["uscc"], defaults={"name": COMMISSION["name"], "seal_name": COMMISSION["seal_name"]}
    )


def unload(apps, schema_editor):
    # Only reachable before anything refers to these rows (PROTECT foreign keys stop it otherwise).
    apps.get_model("registry", "Issuer").objects.filter(uscc=COMMISSION["uscc"]).delete()
    apps.get_model("registry", "LicenseType").objects.filter(code__in=[c for c, _, _ in LICENSE_TYPES]).delete()
    apps.get_model("registry", "District").objects.filter(code__in=[c for c, _ in DISTRICTS]).delete()


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]

    operations = [migrations.RunPython(load, unload)]
