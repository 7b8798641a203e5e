"""Email: raw RFC 822 messages in (from the SMTP listener or the inbound webhook), replies out
through Django's email backend with the headers that thread them (Message-ID, In-Reply-To,
References)."""

from __future__ import annotations

import email.errors
import email.policy
import hashlib
import re
import smtplib
from email.headerregistry import Address
from email.message import EmailMessage as ParsedMessage
from email.utils import make_msgid
from html.parser import HTMLParser

from django.conf import settings
from django.core.mail import EmailMessage

from channels_app.providers import PermanentDeliveryError, TransientDeliveryError
from contactcenter.crm.files import InboundAttachment
from contactcenter.crm.inbound import InboundMessage
from contactcenter.crm.models import ChannelKind, ContactPoint, Message
from contactcenter.kernel.errors import InvalidInput

PROVIDER_PREFIX = "email:"
# What the standard library raises on malformed mail, beyond plain ValueError.
UNREADABLE = (
    ValueError,
    IndexError,
    TypeError,
    LookupError,
    AttributeError,
    email.errors.MessageError,
)
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")


def provider_id(message_id: str) -> str:
    return PROVIDER_PREFIX + message_id


def message_ids(header: str | None) -> list[str]:
    """The <id@host> tokens of a Message-ID, In-Reply-To or References header."""
    return _MESSAGE_ID.findall(str(header or ""))


def inbound_message(raw: bytes, *, recipients: list[str] | None = None) -> InboundMessage:
    """The customer message in a raw RFC 822 email.

    ``recipients`` are the SMTP envelope's, which say which of our mailboxes it reached
    better than the To header (Bcc, aliases).
    """
    if len(raw) > settings.EMAIL_MAX_BYTES:
        raise InvalidInput(
            f"The email is larger than {settings.EMAIL_MAX_BYTES} bytes.", field="message"
        )
    # Headers are parsed lazily and anyone on the internet writes them: every read of one is
    # inside the guard, so that a malformed header is a refusal, never a crash.
    try:
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        sender = _first_address(parsed, "From")
        if sender is None or not sender.addr_spec or "@" not in sender.addr_spec:
            raise InvalidInput("The email has no From address.", field="From")
        to = recipients[0] if recipients else _addr_spec(_first_address(parsed, "To"))
        own_ids = message_ids(_raw_header(parsed, "Message-ID"))
        answered = message_ids(_raw_header(parsed, "In-Reply-To")) + message_ids(
            _raw_header(parsed, "References")
        )
        subject = _header_text(parsed, "Subject")[:200]
        customer_name = sender.display_name or ""
        addr_spec = sender.addr_spec
    except UNREADABLE as exc:
        raise InvalidInput(f"The email cannot be read: {exc}", field="message") from exc
    # Without a Message-ID, the message's own bytes identify it, so a retry still dedupes.
    own_id = own_ids[0] if own_ids else f"<{hashlib.sha256(raw).hexdigest()}@no-message-id>"
    body, attachments = _content(parsed)
    if not body.strip() and attachments:
        body = "(no text; see the attachments)"
    return InboundMessage(
        channel=ChannelKind.EMAIL,
        address_kind=ContactPoint.Kind.EMAIL,
        address=addr_spec,
        body=body,
        provider_message_id=provider_id(own_id),
        business_address=reply_mailbox(to),
        customer_name=customer_name,
        subject=subject,
        replies_to=tuple(provider_id(ref) for ref in reversed(answered)),
        attachments=tuple(attachments),
    )


def reply_mailbox(recipient: str | None) -> str:
    """The mailbox replies come from: the one the customer wrote to if it is one of ours
    (its domain in INBOUND_EMAIL_DOMAINS), else EMAIL_REPLY_FROM. The recipient is whatever
    the sender typed, so it is never trusted as a From address on its own."""
    mailbox = (recipient or "").strip().lower()
    domain = mailbox.rpartition("@")[2]
    if mailbox and domain in settings.INBOUND_EMAIL_DOMAINS:
        return mailbox
    return settings.EMAIL_REPLY_FROM


def _raw_header(parsed: ParsedMessage, name: str) -> str:
    """A header's text without parsing its structure (ids are matched with a pattern)."""
    for key, value in parsed.raw_items():
        if key.lower() == name.lower():
            return str(value)
    return ""


def _first_address(parsed: ParsedMessage, name: str) -> Address | None:
    header = parsed.get(name)
    if header is None:
        return None
    found = getattr(header, "addresses", ())
    return found[0] if found else None


def _addr_spec(address: Address | None) -> str:
    return address.addr_spec if address is not None else ""


def _header_text(parsed: ParsedMessage, name: str) -> str:
    value = parsed.get(name)
    return " ".join(str(value).split()) if value is not None else ""


def _content(parsed: ParsedMessage) -> tuple[str, list[InboundAttachment]]:
    try:
        part = parsed.get_body(preferencelist=("plain", "html"))
        text = ""
        if part is not None:
            content = part.get_content()
            text = html_to_text(content) if part.get_content_subtype() == "html" else content
        attachments = []
        for attachment in parsed.iter_attachments():
            data = attachment.get_payload(decode=True) or b""
            name = attachment.get_filename() or "attachment"
            if len(data) > settings.EMAIL_ATTACHMENT_MAX_BYTES:
                raise InvalidInput(
                    f"Attachment {name!r} is larger than "
                    f"{settings.EMAIL_ATTACHMENT_MAX_BYTES} bytes.",
                    field="attachments",
                )
            attachments.append(
                InboundAttachment(
                    filename=name[:255], content_type=attachment.get_content_type(), data=data
                )
            )
    except UNREADABLE as exc:
        raise InvalidInput(f"The email's content cannot be read: {exc}", field="message") from exc
    return text.strip(), attachments


class _TextExtractor(HTMLParser):
    BLOCKS = frozenset(
        {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre"}
    )
    HIDDEN = frozenset({"script", "style", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0
        self.link: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self.hidden += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")
        if tag == "li":
            self.parts.append("- ")
        if tag == "a":
            self.link = dict(attrs).get("href")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")
        if tag == "a" and self.link:
            if self.link.startswith(("http://", "https://", "mailto:")):
                self.parts.append(f" ({self.link})")
            self.link = None

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    """Readable plain text of an HTML email: blocks on their own lines, links kept."""
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    lines = (" ".join(line.split()) for line in "".join(extractor.parts).splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def quoted_reply_to(interaction_id: int) -> str:
    """The customer's last email, quoted below the reply as mail programs do."""
    last = (
        Message.objects.filter(
            interaction_id=interaction_id, sender=Message.Sender.CUSTOMER, internal=False
        )
        .select_related("interaction__case__customer")
        .order_by("-created_at", "-id")
        .first()
    )
    if last is None:
        return ""
    when = last.created_at.strftime("%a, %d %b %Y at %H:%M UTC")
    name = last.interaction.case.customer.name
    quoted = "\n".join(f"> {line}" if line else ">" for line in last.body.splitlines())
    return f"\n\nOn {when}, {name} wrote:\n{quoted}\n"


def send_reply(message: Message, *, to: str) -> str:
    """Send an agent's reply so that it threads onto the customer's email conversation."""
    interaction = message.interaction
    thread = list(
        Message.objects.filter(
            interaction=interaction, provider_message_id__startswith=PROVIDER_PREFIX
        )
        .order_by("created_at", "id")
        .values_list("provider_message_id", flat=True)
    )
    references = [ref.removeprefix(PROVIDER_PREFIX) for ref in thread][-20:]
    own_id = make_msgid(domain=settings.EMAIL_MESSAGE_ID_DOMAIN)
    headers = {"Message-ID": own_id}
    if references:
        headers["In-Reply-To"] = references[-1]
        headers["References"] = " ".join(references)
    subject = interaction.subject or interaction.case.subject or "Your request"
    if not subject.lower().startswith("re:"):
        subject = f"Re: {subject}"
    mail = EmailMessage(
        subject=subject,
        body=message.body + quoted_reply_to(interaction.pk),
        from_email=interaction.business_address,
        to=[to],
        headers=headers,
    )
    for attachment in message.attachments.all():
        with attachment.file.open("rb") as data:
            mail.attach(attachment.filename, data.read(), attachment.content_type)
    try:
        mail.send(fail_silently=False)
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as exc:
        raise PermanentDeliveryError(f"The mail server refused the message: {exc}") from exc
    except smtplib.SMTPResponseException as exc:
        if 500 <= exc.smtp_code < 600:
            raise PermanentDeliveryError(f"The mail server refused the message: {exc}") from exc
        raise TransientDeliveryError(f"The mail server answered {exc.smtp_code}.") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise TransientDeliveryError(f"The mail server could not be reached: {exc}") from exc
    return provider_id(own_id)
