import pytest
from django.conf import settings


@pytest.mark.django_db
def test_it_reports_every_component_up(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {c: body["components"][c]["status"] for c in ("database", "broker", "storage")} == {
        "database": "ok",
        "broker": "ok",
        "storage": "ok",
    }
    expected_broker = "redis" if settings.REDIS_URL else "filesystem"
    assert body["components"]["broker"]["detail"] == expected_broker
    assert body["components"]["database"]["detail"] == ("postgresql" if settings.USING_POSTGRES else "sqlite")


@pytest.mark.django_db
def test_it_answers_503_naming_the_broker_when_the_broker_is_down(client, monkeypatch):
    from config.celery import app

    # Port 1 on loopback: nothing listens there, so the connection is refused for real.
    # The check opens its own connection (not the producer pool), so this is all it takes.
    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:1/0")

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["components"]["broker"]["status"] == "down"
    assert body["components"]["database"]["status"] == "ok"
    # DEBUG is off here, as in production: the unauthenticated answer names the component but
    # keeps connection details to itself.
    assert "error" not in body["components"]["broker"]


@pytest.mark.django_db
def test_it_answers_503_when_file_storage_cannot_be_written(client, settings, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the media folder should be")
    settings.MEDIA_ROOT = str(blocker / "media")

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["components"]["storage"]["status"] == "down"


def test_it_reports_the_database_down_without_a_server_error(client, settings):
    # No database access granted to this test: any query raises, which is what a dead
    # database looks like to the view.
    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["components"]["database"]["status"] == "down"
