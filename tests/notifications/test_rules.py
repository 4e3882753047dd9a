"""Pure rules of notifications: which event notifies whom, the language of texts, how a kind
is mailed, the texts of every kind in every language, and the unsubscribe tokens."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from contracts.deals import DealStatus
from contracts.events import (
    ConversionRecorded,
    DealPaid,
    DisputeOpened,
    DisputeResolved,
    EventPayload,
    OfferAccepted,
    OfferCountered,
    OfferCreated,
    OfferExpired,
)
from contracts.notifications import EmailStatus, Language, MailRoute, NotificationKind
from contracts.offers import OfferOrigin, Side
from services.errors import Forbidden
from services.notifications import rules, sources, texts, tokens
from services.notifications.rules import Recipient

MERCHANT, KOL = uuid.uuid4(), uuid.uuid4()
SIDES = (MERCHANT, KOL)
NOW = datetime(2026, 12, 5, 14, 0, tzinfo=UTC)


def _who(event: EventPayload) -> list[tuple[str, str]]:
    return [(i.kind.value, i.audience.value) for i in sources.intents(event, SIDES)]


def _offer(kind: type, **fields: object) -> Any:
    ids = {"offer_id": uuid.uuid4(), "brief_id": uuid.uuid4(), "revision": 2}
    return kind(**ids, **fields)


def test_offers_notify_the_other_side_of_whoever_acted() -> None:
    proposal = {"fixed_fee": 45_000, "merchant_pays": 49_500, "currency": "USD", "expires_at": NOW}
    invited = _offer(
        OfferCreated, proposed_by=Side.MERCHANT, merchant_id=MERCHANT, kol_id=KOL,
        origin=OfferOrigin.INVITATION, **proposal,
    )  # fmt: skip
    applied = _offer(
        OfferCreated, proposed_by=Side.KOL, merchant_id=MERCHANT, kol_id=KOL,
        origin=OfferOrigin.APPLICATION, **proposal,
    )  # fmt: skip
    assert _who(invited) == [("offer_invitation", "kol")]
    assert _who(applied) == [("offer_application", "members")]
    assert _who(_offer(OfferCountered, proposed_by=Side.KOL, **proposal)) == [
        ("offer_countered", "members")
    ]
    deal_id = uuid.uuid4()
    accepted = _offer(OfferAccepted, accepted_by=Side.MERCHANT, deal_id=deal_id)
    assert _who(accepted) == [("offer_accepted", "kol")]
    assert sources.intents(accepted, SIDES)[0].link == f"/deals/{deal_id}"
    assert _who(_offer(OfferExpired, expired_at=NOW)) == []
    (intent,) = sources.intents(invited, SIDES)
    assert intent.values == {"fee": "450.00 USD", "expires": "2026-12-05 14:00 UTC"}
    assert "49" not in str(intent.values)  # what the merchant pays is not the KOL's to read


def test_money_disputes_and_held_orders_reach_their_people() -> None:
    deal_id, dispute_id = uuid.uuid4(), uuid.uuid4()
    paid = DealPaid(deal_id=deal_id, kol_id=KOL, amount=45_000, currency="JPY", transfer_id="tr")
    assert _who(paid) == [("payout_sent", "kol")]
    assert sources.intents(paid, SIDES)[0].values == {"amount": "45,000 JPY"}

    def opened(by: str) -> DisputeOpened:
        return DisputeOpened(
            dispute_id=dispute_id, deal_id=deal_id, submission_id=None, kind="takedown",
            opened_by=by, observed_at=None, prior_status=DealStatus.APPROVED,
        )  # fmt: skip

    assert _who(opened("merchant")) == [
        ("takedown_reported", "kol"), ("takedown_reported", "operators"),
    ]  # fmt: skip
    assert ("takedown_reported", "owners") in _who(opened("partner"))
    resolved = DisputeResolved(
        dispute_id=dispute_id, deal_id=deal_id, outcome="refund", refund_amount=100,
        clawback=0, currency="USD", deal_status=DealStatus.REFUNDED,
    )  # fmt: skip
    assert _who(resolved) == [("dispute_resolved", "kol"), ("dispute_resolved", "owners")]

    def order(status: str) -> ConversionRecorded:
        return ConversionRecorded(
            conversion_id=uuid.uuid4(), merchant_id=MERCHANT, deal_id=None, order_id="A-1",
            amount=4_500, currency="USD", status=status, reasons=[], commission=0,
        )  # fmt: skip

    assert _who(order("held")) == [("conversion_held", "operators")]
    assert _who(order("pending")) == []

    # A batch of held orders tells operators once per merchant, with the count.
    batch = [(i, n) for n in range(3) for i in sources.intents(order("held"), SIDES)]
    batch += [(i, 9) for i in sources.intents(paid, SIDES)]
    kept = sources.coalesce_held(batch)
    assert [(i.kind.value, n) for i, n in kept] == [("conversion_held", 0), ("payout_sent", 9)]
    held = kept[0][0]
    assert (held.values["count"], held.link) == (3, "/conversions?status=held")
    title, body = texts.notice(held.kind, Language.ENGLISH, {"merchant": "Lumen", **held.values})
    assert title == "3 orders of Lumen are held for review"
    assert body == "Orders A-1 and 2 more wait for an operator's decision."


@pytest.mark.parametrize(
    ("tags", "chosen", "language"),
    [
        (["zh"], None, Language.SIMPLIFIED_CHINESE),
        (["zh-Hant", "en"], None, Language.SIMPLIFIED_CHINESE),
        (["fr", "en", "zh"], None, Language.ENGLISH),
        (["ja"], None, Language.ENGLISH),
        ([], None, Language.ENGLISH),
        (["zh"], "en", Language.ENGLISH),
    ],
)
def test_the_language_of_texts(tags: list[str], chosen: str | None, language: Language) -> None:
    assert rules.language_of(tags, chosen) is language


def _person(off: frozenset[str] = frozenset(), digest: bool = False) -> Recipient:
    return Recipient(uuid.uuid4(), "a@example.com", "kol", Language.ENGLISH, off, digest)


def test_how_a_kind_is_mailed_and_whose_side_its_events_are_filed_under() -> None:
    kinds = NotificationKind
    assert rules.mail_route(kinds.OFFER_INVITATION, _person()) is MailRoute.IMMEDIATE
    off = _person(frozenset({"offer_invitation"}))
    assert rules.mail_route(kinds.OFFER_INVITATION, off) is MailRoute.NONE
    digest = _person(digest=True)
    assert rules.mail_route(kinds.PAYOUT_SENT, digest) is MailRoute.DIGEST
    assert rules.mail_route(kinds.OFFER_INVITATION, digest) is MailRoute.IMMEDIATE  # urgent

    merchant_id, kol_id = uuid.uuid4(), uuid.uuid4()
    kol = Recipient(uuid.uuid4(), "k@example.com", "kol", Language.ENGLISH, frozenset(), False,
                    merchant_id=None, kol_id=kol_id)  # fmt: skip
    member = Recipient(uuid.uuid4(), "m@example.com", "merchant", Language.ENGLISH, frozenset(),
                       False, merchant_id=merchant_id)  # fmt: skip
    operator = Recipient(uuid.uuid4(), "o@example.com", "operator", Language.ENGLISH,
                         frozenset(), False)  # fmt: skip
    assert rules.filed_under(kol) == (None, kol_id)
    assert rules.filed_under(member) == (merchant_id, None)
    assert rules.filed_under(operator) == (None, None)


@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize("kind", list(NotificationKind))
def test_every_kind_has_short_texts_in_every_language(
    kind: NotificationKind, language: Language
) -> None:
    values = {
        "brief": "B" * 80, "merchant": "M" * 60, "kol": "K" * 60, "side": "kol",
        "fee": "1.00 USD", "expires": "x", "due": "x", "amount": "x", "reason": "r" * 300,
        "order": "o", "count": 3, "outcome": "pay_kol",
    }  # fmt: skip
    title, body = texts.notice(kind, language, values)
    assert 0 < len(title) <= texts.TITLE_LIMIT and "\n" not in title
    assert body and "{{" not in title + body
    assert texts.kind_name(kind, language)


def test_mails_escape_what_others_typed() -> None:
    links = texts.unsubscribe_links(Language.ENGLISH, [(NotificationKind.PAYOUT_SENT, "https://u")])
    mail = texts.notification_mail(
        Language.ENGLISH, "<script>x</script>", "a & b", "https://app/x?a=1&b=2", links
    )
    assert "<script>" not in mail.html and "&lt;script&gt;" in mail.html
    assert "<script>x</script>" in mail.text  # plain text stays as typed
    assert "Stop emails about payouts sent" in mail.text


def test_an_unsubscribe_token_names_its_user_and_kind_and_nothing_else() -> None:
    user = uuid.uuid4()
    token = tokens.sign("secret one", user, NotificationKind.PAYOUT_SENT)
    assert tokens.verify("secret one", token) == (user, NotificationKind.PAYOUT_SENT)
    other_kind = tokens.sign("secret one", user, NotificationKind.OFFER_DECLINED)
    spliced = token.split(".")[0] + "." + other_kind.split(".")[1]
    for bad, secret in ((token, "secret two"), (spliced, "secret one"), ("", "secret one")):
        with pytest.raises(Forbidden) as refused:
            tokens.verify(secret, bad)
        assert refused.value.extra()["errors"][0]["field"] == "token"


def test_retries_back_off_then_give_up() -> None:
    first = rules.next_attempt(1, NOW)
    assert first is not None and NOW < first < NOW + timedelta(minutes=1)
    assert rules.after_failure(True, 6, NOW) == (EmailStatus.FAILED, None)
    assert rules.after_failure(False, 1, NOW) == (EmailStatus.FAILED, None)
