import pytest
from django.urls import reverse

from registry import services
from registry.models import District, Holder, PropertyUnit

pytestmark = pytest.mark.django_db

ID = "110105199003071239"
ID2 = "11010819850101002X"


@pytest.fixture
def holders():
    return [
        services.holder_create(kind="PERSON", name="张伟", id_type="111", id_number=ID, phone="13800138001"),
        services.holder_create(kind="PERSON", name="欧阳娜娜", id_type="111", id_number=ID2),
        services.holder_create(
            kind="ORGANISATION", name="北京京华置业有限公司", id_type="001", id_number="91110105MA00000012"
        ),
    ]


@pytest.fixture
def unit():
    return services.property_unit_create(
        unit_number="110105003001GB00012F00031201",
        location="北京市朝阳区建国路88号3号楼12层1201",
        right_type="国有建设用地使用权/房屋所有权",
        right_nature="出让/商品房",
        use="城镇住宅用地/住宅",
    )


@pytest.fixture
def clerk_client(client, clerk):
    client.force_login(clerk)
    return client


def _page(response) -> str:
    return response.content.decode()


def test_it_lists_holders_with_masked_numbers_only(clerk_client, holders):
    page = _page(clerk_client.get(reverse("admin:registry_holder_changelist")))
    assert "110105********1239" in page and "110108********002X" in page
    assert ID not in page and ID2 not in page and "91110105MA00000012" not in page
    assert "按证件号码查找" in page and "导入CSV" in page


def test_it_shows_a_holder_change_page_without_the_number(clerk_client, holders):
    page = _page(clerk_client.get(reverse("admin:registry_holder_change", args=[holders[0].pk])))
    assert "110105********1239" in page
    assert ID not in page
    assert holders[0].id_number_ciphertext not in page and holders[0].id_number_index not in page


def test_it_filters_holders_by_kind_and_id_type(clerk_client, holders):
    page = _page(clerk_client.get(reverse("admin:registry_holder_changelist") + "?id_type__exact=001"))
    assert "北京京华置业有限公司" in page and "张伟" not in page
    page = _page(clerk_client.get(reverse("admin:registry_holder_changelist") + "?kind__exact=PERSON"))
    assert "张伟" in page and "北京京华置业有限公司" not in page


def test_it_finds_a_holder_by_number_through_a_post_and_redirects_by_pk(clerk_client, holders):
    response = clerk_client.post(reverse("admin:registry_holder_lookup"), {"id_number": ID2.lower(), "id_type": ""})
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:registry_holder_change", args=[holders[1].pk])


def test_it_reports_a_number_that_matches_nobody(clerk_client, holders):
    response = clerk_client.post(
        reverse("admin:registry_holder_lookup"), {"id_number": "110101200001010010"}, follow=True
    )
    page = _page(response)
    assert "未找到使用该证件号码的权利人" in page
    assert "110101200001010010" not in page


def test_it_sends_the_search_box_by_post_so_numbers_stay_out_of_urls(clerk_client, holders):
    page = _page(clerk_client.get(reverse("admin:registry_holder_changelist")))
    assert f'method="post" action="{reverse("admin:registry_holder_lookup")}"' in page

    response = clerk_client.post(reverse("admin:registry_holder_lookup"), {"q": ID})
    assert response["Location"] == reverse("admin:registry_holder_change", args=[holders[0].pk])
    assert ID not in response["Location"]

    response = clerk_client.post(reverse("admin:registry_holder_lookup"), {"q": "欧阳"})
    assert response.status_code == 302 and "q=" in response["Location"]
    page = _page(clerk_client.get(response["Location"]))
    assert "欧阳娜娜" in page and "张伟" not in page


def test_it_answers_a_number_in_the_query_string_with_a_redirect_that_drops_it(clerk_client, holders):
    response = clerk_client.get(reverse("admin:registry_holder_changelist"), {"q": ID})
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:registry_holder_change", args=[holders[0].pk])


def test_it_matches_numbers_through_the_index_in_search_results(rf, clerk, holders):
    from django.contrib.admin.sites import site

    model_admin = site._registry[Holder]
    request = rf.get("/")
    request.user = clerk
    results, _ = model_admin.get_search_results(request, Holder.objects.all(), ID2)
    assert list(results) == [holders[1]]
    results, _ = model_admin.get_search_results(request, Holder.objects.all(), "张")
    assert list(results) == [holders[0]]


def test_it_adds_a_holder_through_the_service_with_a_write_only_number(clerk_client):
    data = {
        "kind": "PERSON",
        "name": "李娜",
        "id_type": "111",
        "id_number": "110102198807150027",
        "phone": "",
        "address": "",
    }
    response = clerk_client.post(reverse("admin:registry_holder_add"), data)
    assert response.status_code == 302
    holder = Holder.objects.get()
    assert holder.id_number_masked == "110102********0027"
    assert services.holder_find("110102198807150027").get() == holder


def test_it_shows_form_errors_without_echoing_the_number(clerk_client, holders):
    bad = {
        "kind": "PERSON",
        "name": "李娜",
        "id_type": "111",
        "id_number": "110102198807150028",
        "phone": "",
        "address": "",
    }
    page = _page(clerk_client.post(reverse("admin:registry_holder_add"), bad))
    assert "校验码错误" in page
    assert "110102198807150028" not in page

    duplicate = {**bad, "id_number": ID}
    page = _page(clerk_client.post(reverse("admin:registry_holder_add"), duplicate))
    assert "已有使用该证件号码的权利人" in page
    assert ID not in page
    assert Holder.objects.count() == 3


def test_it_changes_a_holder_keeping_the_number_when_left_blank(clerk_client, holders):
    holder = holders[0]
    data = {"kind": "PERSON", "name": "张伟明", "id_type": "111", "id_number": "", "phone": "1", "address": ""}
    response = clerk_client.post(reverse("admin:registry_holder_change", args=[holder.pk]), data)
    assert response.status_code == 302
    holder.refresh_from_db()
    assert holder.name == "张伟明"
    assert services.holder_find(ID).get() == holder


def test_it_shows_the_parts_of_the_unit_number_read_only(clerk_client, unit):
    page = _page(clerk_client.get(reverse("admin:registry_propertyunit_change", args=[unit.pk])))
    assert "110105 朝阳区" in page
    assert "110105003001GB00012" in page
    assert "建设用地使用权宗地（地表）" in page
    assert "幢 0003，户 1201" in page
    assert 'name="unit_number"' not in page  # fixed once registered


def test_it_lists_searches_and_filters_property_units(clerk_client, unit):
    url = reverse("admin:registry_propertyunit_changelist")
    assert "110105003001GB00012F00031201" in _page(clerk_client.get(url, {"q": "GB00012F"}))
    assert "110105003001GB00012F00031201" not in _page(clerk_client.get(url, {"q": "海淀"}))
    haidian = District.objects.get(name="海淀区")
    assert "110105003001GB00012F00031201" not in _page(clerk_client.get(url, {"district__id__exact": haidian.pk}))


def test_it_adds_a_property_unit_deriving_its_district(clerk_client):
    data = {
        "unit_number": "110108012003GB00305F00020502",
        "location": "北京市海淀区中关村南大街5号院2号楼5层502",
        "right_type": "国有建设用地使用权/房屋所有权",
        "right_nature": "出让/商品房",
        "use": "城镇住宅用地/住宅",
    }
    response = clerk_client.post(reverse("admin:registry_propertyunit_add"), data)
    assert response.status_code == 302
    assert PropertyUnit.objects.get().district.name == "海淀区"

    page = _page(
        clerk_client.post(
            reverse("admin:registry_propertyunit_add"), {**data, "unit_number": "310108012003GB00305F00020502"}
        )
    )
    assert "不是北京市的区县代码" in page


def test_it_searches_organisations(clerk_client, bank, court):
    page = _page(clerk_client.get(reverse("admin:registry_requestingorganisation_changelist"), {"q": "法院"}))
    assert court.name in page and bank.name not in page
    page = _page(
        clerk_client.get(reverse("admin:registry_requestingorganisation_changelist"), {"org_type__exact": "BANK"})
    )
    assert bank.name in page and court.name not in page


def test_it_keeps_people_without_rights_out(client, outsider, approver, holders):
    client.force_login(outsider)
    assert client.get(reverse("admin:registry_holder_changelist")).status_code == 302  # to the login page
    client.force_login(approver)  # may view, may not add or import
    assert client.get(reverse("admin:registry_holder_changelist")).status_code == 200
    assert client.get(reverse("admin:registry_holder_import")).status_code == 403
    assert client.post(reverse("admin:registry_holder_lookup"), {"id_number": ID}).status_code == 302
