"""``media = "copy"``: the outbox folder carries its own images (issue 14), fetched through the
project's Fetcher from a real HTTP server on loopback."""

from __future__ import annotations

import hashlib
import sys
from dataclasses import replace
from pathlib import Path

import lxml.html
import pytest

from syndication.deliveries.channel import ChannelContext
from syndication.deliveries.outbox import OutboxChannel
from syndication.errors import ConfigError
from syndication.models import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_outbox import make_item, publish

from tests.httpserver import FixtureServer

PNG = b"\x89PNG\r\n\x1a\n" + b"hus" * 100
JPEG = b"\xff\xd8\xff\xe0" + b"hav" * 100


@pytest.fixture
def images():
    with FixtureServer() as server:
        server.add("/hus.png", PNG, headers={"Content-Type": "image/png"})
        server.add("/hav.jpg", JPEG, headers={"Content-Type": "image/jpeg"})
        server.add("/stor.png", b"\x89PNG" + b"x" * 5000, headers={"Content-Type": "image/png"})
        yield server


def channel(tmp_path: Path, **config: object) -> OutboxChannel:
    settings = {"path": "outbox", "allow_private_hosts": ["127.0.0.1"], **config}
    return OutboxChannel(ChannelContext(name="outbox", config=settings, base_dir=tmp_path))


def item_with_images(server: FixtureServer, **changes: object):
    body = (
        f'<p>Huset:</p><figure><img src="{server.url("/hav.jpg")}" alt="Havet ved Skagen">'
        "<figcaption>Havet</figcaption></figure>"
        f'<p><img src="{server.url("/stor.png")}" alt="Et stort bilde"></p>'
    )
    return replace(
        make_item(html=body, featured_image=Image(server.url("/hus.png"), "Et rødt forsamlingshus")),
        **changes,
    )


def test_copy_puts_images_next_to_the_html_and_points_there(tmp_path: Path, images) -> None:
    outbox = channel(tmp_path, media="copy", max_image_bytes=1000)
    receipt = publish(outbox, item_with_images(images))
    folder = tmp_path / "outbox" / "nb"
    hus = f"media/{hashlib.sha256(PNG).hexdigest()[:32]}.png"
    hav = f"media/{hashlib.sha256(JPEG).hexdigest()[:32]}.jpg"
    assert (folder / hus).read_bytes() == PNG and (folder / hav).read_bytes() == JPEG
    doc = lxml.html.fromstring(Path(receipt.meta["path"]).read_bytes())
    sources = {img.get("alt"): img.get("src") for img in doc.iter("img")}
    assert sources["Et rødt forsamlingshus"] == hus and sources["Havet ved Skagen"] == hav
    # Over max_image_bytes: left at its address (a working image), and said so.
    assert sources["Et stort bilde"] == images.url("/stor.png")
    assert (
        not (folder / "media").joinpath("stor.png").exists() and len(list((folder / "media").iterdir())) == 2
    )
    (note,) = receipt.meta["media_notes"]
    assert images.url("/stor.png") in note and "larger than 0.001 MB" in note


def test_an_image_shared_by_two_posts_is_fetched_and_stored_once(tmp_path: Path, images) -> None:
    outbox = channel(tmp_path, media="copy")
    publish(outbox, item_with_images(images))
    publish(outbox, item_with_images(images, post_key="https://lokaltliv.example/?p=9", translation_id=8))
    outbox.close()
    fetched = [r.path for r in images.requests if r.path == "/hus.png"]
    assert fetched == ["/hus.png"]
    assert len(list((tmp_path / "outbox" / "nb" / "media").iterdir())) == 3


def test_default_links_to_the_original_images(tmp_path: Path, images) -> None:
    receipt = publish(channel(tmp_path), item_with_images(images))
    doc = lxml.html.fromstring(Path(receipt.meta["path"]).read_bytes())
    assert {img.get("src") for img in doc.iter("img")} == {
        images.url("/hus.png"),
        images.url("/hav.jpg"),
        images.url("/stor.png"),
    }
    assert images.requests == [] and not (tmp_path / "outbox" / "nb" / "media").exists()


def test_an_image_from_a_private_address_stays_linked_with_a_note(tmp_path: Path, images) -> None:
    outbox = channel(tmp_path, media="copy", allow_private_hosts=[])
    receipt = publish(outbox, item_with_images(images))
    assert len(receipt.meta["media_notes"]) == 3 and "loopback" in receipt.meta["media_notes"][0]
    assert images.requests == []


def test_unknown_media_mode_is_a_clear_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match='media must be "link"'):
        channel(tmp_path, media="copyy")
