"""``syndication-email``: a Prefect notification block that sends e-mail over SMTP.

Prefect's own e-mail block needs a SaaS (SendGrid) or the ``prefect-email`` collection; a
self-hosted team usually has an SMTP relay. Create one once (the password is stored as a secret
field of the block, never in our TOML)::

    from syndication.orchestration.email_block import EmailNotification
    EmailNotification(host="smtp.example.dk", port=587, security="starttls", username="robot",
                      password="…", from_addr="Syndication <robot@example.dk>",
                      to=["redaktion@example.dk"]).save("editors")

and name it in the config: ``[orchestration] notify_block = "syndication-email/editors"``.
``prefect block register -m syndication.orchestration.email_block`` makes it show in the UI.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid
from typing import Literal

from prefect._internal.compatibility.async_dispatch import async_dispatch
from prefect.blocks.abstract import NotificationBlock
from pydantic import Field, SecretStr


class EmailNotification(NotificationBlock):
    """Sends notifications as plain-text e-mail through an SMTP server."""

    _block_type_name = "Syndication E-mail"
    _block_type_slug = "syndication-email"

    host: str = Field(description="SMTP server host name.")
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = Field(
        default="starttls", description="STARTTLS (port 587), implicit TLS (465) or none (a local relay)."
    )
    username: str | None = None
    password: SecretStr | None = None
    from_addr: str = Field(description="Sender, e.g. 'Syndication <robot@example.dk>'.")
    to: list[str] = Field(description="Recipients.", min_length=1)
    subject_prefix: str = "[syndication] "
    timeout: float = Field(default=30, gt=0)

    def message(self, body: str, subject: str | None) -> EmailMessage:
        # policy=SMTP: CRLF line ends and RFC 2047 encoded subjects (æøå) are taken care of.
        message = EmailMessage(policy=SMTP)
        message["From"] = self.from_addr
        message["To"] = ", ".join(self.to)
        message["Subject"] = self.subject_prefix + (subject or "notification")
        message["Date"] = formatdate(localtime=False, usegmt=True)
        message["Message-ID"] = make_msgid(domain=self.from_addr.rsplit("@", 1)[-1].strip("> ") or None)
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(body)
        return message

    def _send(self, body: str, subject: str | None) -> None:
        message = self.message(body, subject)
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if self.security == "ssl":
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with smtp:
            if self.security == "starttls":
                smtp.starttls(context=context)
            if self.username and self.password is not None:
                smtp.login(self.username, self.password.get_secret_value())
            smtp.send_message(message)

    async def anotify(self, body: str, subject: str | None = None) -> None:
        import anyio.to_thread

        await anyio.to_thread.run_sync(self._send, body, subject)

    @async_dispatch(anotify)
    def notify(self, body: str, subject: str | None = None) -> None:  # type: ignore[override]
        self._send(body, subject)
