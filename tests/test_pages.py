import pytest

from .conftest import set_fund_settings


@pytest.mark.django_db
def test_home_page_shows_the_fund_name_in_french_by_default(client):
    set_fund_settings(name="Caisse alimentaire de Montpellier")
    response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Caisse alimentaire de Montpellier" in body
    assert '<html lang="fr">' in body
    assert "Chaque mois, chaque foyer reçoit son allocation alimentaire" in body


@pytest.mark.django_db
def test_home_page_speaks_english_when_asked(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    body = response.content.decode()
    assert '<html lang="en">' in body
    assert "Every month, each household receives its food allocation" in body


@pytest.mark.django_db
def test_healthz_reaches_the_database(client):
    assert client.get("/healthz").json() == {"status": "ok"}


@pytest.mark.django_db
def test_api_schema_and_docs_are_served_without_any_cdn(client):
    schema = client.get("/api/v1/schema/")
    assert schema.status_code == 200
    docs = client.get("/api/v1/docs/").content.decode()
    assert "POST /api/v1/purchases" in docs and 'lang="en"' in docs  # drawn from the schema, no script
    for cdn in ("cdn.jsdelivr", "unpkg.com", "cdnjs", "googleapis"):
        assert cdn not in docs


@pytest.mark.django_db
def test_static_assets_are_served_by_the_application(client):
    from django.templatetags.static import static

    response = client.get(static("css/caisse.css"))
    assert response.status_code == 200


@pytest.mark.browser
def test_browser_home_page_shows_the_fund_name(page):
    set_fund_settings(name="Caisse commune de Montpellier")
    page.goto(page.live_server_url + "/")
    assert page.locator("h1").inner_text() == "Caisse commune de Montpellier"
    # Its own stylesheet loaded: the header carries the fund's green.
    color = page.locator(".site-header").evaluate("e => getComputedStyle(e).backgroundColor")
    assert color == "rgb(47, 107, 58)"
