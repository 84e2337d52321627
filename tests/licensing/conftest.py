"""A development PKI for the whole test session, made by the real `init_dev_pki` command in the
run's own VAR_DIR (tests/bootstrap.py), so tests sign and validate with real keys."""

import io

import pytest
from django.core.management import call_command


@pytest.fixture(scope="session")
def dev_pki():
    from licensing import pki, signing

    call_command("init_dev_pki", stdout=io.StringIO(), stderr=io.StringIO())
    signing.reset_commission_signer()
    return pki.default_pki()


@pytest.fixture
def certificate_doc():
    """A 不动产权证书 with two co-owners by shares."""
    import datetime as dt
    from decimal import Decimal

    from licensing.rendering import HolderLine, LicenseDocument

    return LicenseDocument(
        kind="CERTIFICATE",
        title="不动产权证书",
        certificate_number="京(2026)朝阳区不动产权第0001234号",
        identifier="1.2.156.3005.2.11100000MB03271699001.11110000MB0000001Y.20260001234.001.5",
        license_type_code="11100000MB03271699001",
        license_type_name="不动产权证书",
        issuer_name="北京市规划和自然资源委员会",
        issuer_uscc="11110000MB0000001Y",
        seal_name="北京市规划和自然资源委员会不动产登记专用章",
        issue_date=dt.date(2026, 1, 5),
        holders=(
            HolderLine("张伟", "居民身份证", "110105********1239", "1/2"),
            ("欧阳娜娜", "居民身份证", "110108********002X", "1/2"),
        ),
        co_ownership="按份共有",
        location="北京市朝阳区建国路88号院3号楼12层1201",
        unit_number="110105003001GB00012F00031201",
        right_type="国有建设用地使用权/房屋所有权",
        right_nature="出让/商品房",
        use="城镇住宅用地/住宅",
        land_area=Decimal("12034.5"),
        building_area=Decimal("89.12"),
        term_text="国有建设用地使用权 2006年03月01日起 2076年02月28日止",
        other_status="专有建筑面积 76.30㎡，分摊建筑面积 12.82㎡\n房屋结构：钢筋混凝土结构",
        notes="2026年1月5日转移登记。",
        check_url="http://testserver/v/Q7FJ3KX9M2PWT8ZC4RHDX5",
    )


@pytest.fixture
def certification_doc():
    """A 不动产登记证明 for a mortgage on the certificate above."""
    import datetime as dt
    from decimal import Decimal

    from licensing.rendering import LicenseDocument

    return LicenseDocument(
        kind="CERTIFICATION",
        title="不动产登记证明",
        certificate_number="京(2026)朝阳区不动产证明第0000042号",
        identifier="1.2.156.3005.2.11100000MB03271699022.11110000MB0000001Y.20260000042.001.X",
        license_type_code="11100000MB03271699022",
        license_type_name="不动产登记证明",
        issuer_name="北京市规划和自然资源委员会",
        issuer_uscc="11110000MB0000001Y",
        seal_name="北京市规划和自然资源委员会不动产登记专用章",
        issue_date=dt.date(2026, 2, 1),
        holders=(("中国工商银行股份有限公司北京市分行", "统一社会信用代码", "91110000802100433B", ""),),
        obligors=("张伟", "欧阳娜娜"),
        right_or_matter="抵押权",
        location="北京市朝阳区建国路88号院3号楼12层1201",
        unit_number="110105003001GB00012F00031201",
        secured_amount=Decimal("3000000"),
        debt_term_text="2026年02月01日起 2056年01月31日止",
        encumbered_certificate_number="京(2026)朝阳区不动产权第0001234号",
        notes="最高额抵押。",
        check_url="https://licences.example.gov.cn/v/ABCDEFGHJKLMNPQRSTUVWX",
    )
