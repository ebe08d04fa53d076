"""Issue 19: the printed card scans. Chromium renders the print page; zxing-cpp decodes
the QR code from the screenshot and finds the card's token."""

import io

import pytest
import zxingcpp
from PIL import Image

from .browser_checks import visit
from .member_fixtures import PASSWORD, make_member

pytestmark = pytest.mark.browser

MM = 96 / 25.4  # CSS pixels per millimetre


def test_the_printed_card_is_bank_card_sized_and_its_qr_code_scans(page, transactional_db):
    member = make_member("F-1950", balance=1_000)
    base = page.live_server_url
    page.goto(base + "/accounts/login/")
    page.get_by_label("E-mail, téléphone ou numéro de carte").fill(member.card.display_number)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(base + "/portal/")

    page.goto(f"{base}/portal/cards/{member.card.pk}/print/")
    assert page.locator('meta[name="viewport"]').count() == 1
    card = page.get_by_test_id("printed-card")
    box = card.bounding_box()
    assert abs(box["width"] - 85.6 * MM) < 1 and abs(box["height"] - 54 * MM) < 1  # ISO/IEC 7810 ID-1
    visit(page, "card-print-360")

    picture = Image.open(io.BytesIO(card.screenshot())).convert("L")
    found = zxingcpp.read_barcodes(picture, formats=zxingcpp.BarcodeFormat.QRCode)
    assert [code.text for code in found] == [member.card.qr_token]
