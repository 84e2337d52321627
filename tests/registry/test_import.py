import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from registry import crypto, importing, services
from registry.models import Holder, PropertyUnit

pytestmark = pytest.mark.django_db

UNIT_HEADER = "不动产单元号,坐落,权利类型,权利性质,用途,土地面积,房屋面积,使用期限起,使用期限止,权利其他状况\n"
RT = "国有建设用地使用权/房屋所有权,出让/商品房,住宅"
UNITS_CSV = (
    UNIT_HEADER
    + "\n".join(
        [
            f"110105003001GB00012F00031201,北京市朝阳区建国路88号1201,{RT},36.52,89.37,2006-03-01,2076-02-28,",  # 2
            f"110105003001GB00012F0003120,北京市朝阳区某处,{RT},,,,,",  # line 3: 27 characters
            f"110108012003GB00305F00020502,,{RT},,,,,",  # line 4: no location
            "",  # blank line 5: skipped, still counted
            f"310105003001GB00012F00031201,上海市某处,{RT},,,,,",  # line 6: not a Beijing county
            f"110108012003GB00305F00020502,北京市海淀区中关村南大街5号,{RT},abc,,,,",  # line 7: bad area
            f"110112106204GB00521F00120102,北京市通州区新华大街100号,{RT},40.02,118.73,2012/11/01,2082年10月31日,",  # 8
            '110114002005GB00033W00000000,北京市昌平区超前路9号,国有建设用地使用权,出让,工业用地,"15,230.00",,'
            "2018-04-01,2017-01-01,",  # line 9: the term ends before it starts
        ]
    )
    + "\n"
)


def test_it_imports_good_unit_rows_and_reports_bad_ones_by_line():
    result = importing.import_property_units(UNITS_CSV.encode("utf-8-sig"))
    assert (result.created, result.updated) == (2, 0)
    errors = {e.row: e.message for e in result.errors}
    assert set(errors) == {3, 4, 6, 7, 9}
    assert "28 位" in errors[3]
    assert errors[4].startswith("坐落")
    assert "不是北京市的区县代码" in errors[6]
    assert "“abc”不是数字" in errors[7]
    assert "使用期限止不能早于使用期限起" in errors[9]
    assert set(PropertyUnit.objects.values_list("unit_number", flat=True)) == {
        "110105003001GB00012F00031201",
        "110112106204GB00521F00120102",
    }
    assert str(PropertyUnit.objects.get(unit_number="110112106204GB00521F00120102").term_end) == "2082-10-31"


def test_it_updates_units_on_a_second_import_instead_of_duplicating():
    importing.import_property_units(UNITS_CSV.encode())
    changed = UNITS_CSV.replace("北京市朝阳区建国路88号1201", "北京市朝阳区建国路88号12层1201")
    result = importing.import_property_units(changed.encode())
    assert (result.created, result.updated) == (0, 2)
    assert PropertyUnit.objects.get(unit_number="110105003001GB00012F00031201").location.endswith("12层1201")


def test_it_reads_gbk_files_from_excel():
    result = importing.import_property_units(UNITS_CSV.encode("gb18030"))
    assert result.created == 2


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"", "文件为空"),
        ("坐落,用途\n某处,住宅\n".encode(), "缺少列 不动产单元号"),
        (b"\xff\xfe\x00\x00\xff", "编码"),
    ],
)
def test_it_rejects_an_unusable_file_as_a_whole(data, needle):
    with pytest.raises(importing.ImportFileError, match=needle):
        importing.import_property_units(data)
    assert not PropertyUnit.objects.exists()


def test_it_leaves_nothing_written_when_the_import_crashes_mid_file(monkeypatch):
    real = services.property_unit_create
    calls = []

    def crash_on_second(**kwargs):
        calls.append(kwargs["unit_number"])
        if len(calls) == 2:
            raise RuntimeError("database went away")
        return real(**kwargs)

    monkeypatch.setattr(services, "property_unit_create", crash_on_second)
    with pytest.raises(RuntimeError):
        importing.import_property_units(UNITS_CSV.encode())
    assert len(calls) == 2  # the first row had been written inside the file's transaction
    assert not PropertyUnit.objects.exists()


HOLDERS_CSV = (
    "主体类别,名称/姓名,证件类型,证件号码,联系电话,通讯地址\n"
    "自然人,张伟,111,110105199003071239,13800138001,北京市朝阳区\n"  # 2 ok
    "自然人,李娜,居民身份证,110102198807150028,,\n"  # 3 bad check digit
    ",北京京华置业有限公司,1,91110105MA00000012,,\n"  # 4 ok: kind inferred, 001 written as 1
    "自然人,王芳,111,1.10108E+17,,\n"  # 5 mangled by a spreadsheet
    "法人或其他组织,某公司,111,110108197612300041,,\n"  # 6 organisation with a personal document
    "自然人,张伟,111,110105199003071239,13900000000,北京市朝阳区新址\n"  # 7 same person again: update
    "自然人,陈家明,港澳居民来往内地通行证,h12345678,,\n"  # 8 ok (normalised)
    "自然人,周婷,888,110115200304120063,,\n"  # 9 unknown type
)


def test_it_imports_good_holder_rows_encrypted_and_reports_bad_ones_without_numbers():
    result = importing.import_holders(HOLDERS_CSV.encode())
    assert (result.created, result.updated) == (3, 1)
    errors = {e.row: e.message for e in result.errors}
    assert set(errors) == {3, 5, 6, 9}
    assert "校验码错误" in errors[3]
    assert "科学计数法" in errors[5]
    assert "个人证件类型" in errors[6]
    assert "未知的证件类型“888”" in errors[9]
    for message in errors.values():
        assert "110102198807150028" not in message and "110108197612300041" not in message
    zhang = services.holder_find("110105199003071239").get()
    assert (zhang.phone, zhang.address) == ("13900000000", "北京市朝阳区新址")
    assert services.holder_find("91110105MA00000012", "001").get().kind == "ORGANISATION"
    assert crypto.reveal_id_number(services.holder_find("H12345678", "516").get()) == "H12345678"
    assert Holder.objects.count() == 3


def test_it_imports_from_the_admin_page_and_lists_rejected_rows(client, clerk):
    client.force_login(clerk)
    upload = SimpleUploadedFile("holders.csv", HOLDERS_CSV.encode(), content_type="text/csv")
    response = client.post(reverse("admin:registry_holder_import"), {"file": upload})
    page = response.content.decode()
    assert response.status_code == 200
    assert '<strong class="created">3</strong>' in page
    assert "<td>3</td><td>证件号码：" in page
    for number in ("110105199003071239", "110102198807150028", "110108197612300041", "110115200304120063"):
        assert number not in page
    assert Holder.objects.count() == 3


def test_it_reports_a_bad_file_on_the_admin_page_and_writes_nothing(client, clerk):
    client.force_login(clerk)
    upload = SimpleUploadedFile("units.csv", "坐落\n某处\n".encode(), content_type="text/csv")
    page = client.post(reverse("admin:registry_propertyunit_import"), {"file": upload}).content.decode()
    assert "文件未导入：第1行：缺少列" in page
    assert not PropertyUnit.objects.exists()
