"""html_to_text: plain text that keeps the block structure."""

from __future__ import annotations

from syndication.posts import html_to_text


def test_blocks_and_lines() -> None:
    html = (
        "<h2>Overskrift</h2><p>Første  afsnit\nover to linjer.</p><p>Linje<br>skift</p>"
        "<ul><li>et</li><li>to<ul><li>under</li></ul></li></ul>"
        "<ol start='4'><li>fire</li><li>fem</li></ol>"
        "<blockquote><p>Citat</p></blockquote>"
    )
    assert html_to_text(html) == (
        "Overskrift\n\nFørste afsnit over to linjer.\n\nLinje\nskift\n\n"
        "et\nto\nunder\n\n4. fire\n5. fem\n\nCitat"
    )


def test_tables_rows_on_lines() -> None:
    html = (
        "<table><thead><tr><th>Dag</th><th>Sted</th></tr></thead>"
        "<tbody><tr><td>Man</td><td>Skjern</td></tr></tbody></table>"
    )
    assert html_to_text(html) == "Dag | Sted\nMan | Skjern"


def test_pre_keeps_whitespace() -> None:
    assert html_to_text("<p>før</p><pre>  a\n    b\n</pre><p>efter</p>") == "før\n\n  a\n    b\n\nefter"


def test_pictures_contribute_nothing_but_table_captions_do() -> None:
    html = (
        '<p>Tekst</p><figure><img src="https://x.dk/a.jpg" alt="alt-tekst">'
        "<figcaption>Billedtekst</figcaption></figure><figure><table><tr><td>1</td></tr></table><figcaption>Tabeltekst</figcaption></figure>"
    )
    assert html_to_text(html) == "Tekst\n\n1\n\nTabeltekst"


def test_entities_and_scripts() -> None:
    assert html_to_text("<p>Æbler &amp; pærer&nbsp;i <b>Ølgod</b></p><script>x()</script>") == (
        "Æbler & pærer i Ølgod"
    )
    assert html_to_text("") == ""
    assert html_to_text("bare tekst") == "bare tekst"
