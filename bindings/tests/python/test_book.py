"""The generated Python bindings against the built library: a thin check that the API, its
records and its typed errors work across the FFI boundary. The behaviour itself is tested in
Rust (core/tests)."""
import pytest

import kartka_ffi as k


@pytest.fixture
def book(tmp_path):
    b = k.ClientBook.open(str(tmp_path / "book.db"))
    b.init_business(k.NewBusinessRec(name="Студія", region="UA", zone="Europe/Kyiv", currency="UAH", locale="uk"))
    return b


def client(name, phones=(), email=None, birthday=None):
    return k.NewClientRec(name=name, phones=list(phones), email=email, birthday=birthday, comment=None, client_class=None, tags=[])


def test_cyrillic_clients_are_added_and_found(book):
    c = book.add_client(client("Олена Коваленко", ["067 123 45 67"], birthday="--04-15"))
    assert c.phones[0].e164 == "+380671234567"
    assert c.birthday == "--04-15"
    assert c.consented == []
    assert [x.name for x in book.search("олен", 0, 50)] == ["Олена Коваленко"]
    assert [x.id for x in book.search("067 123", 0, 50)] == [c.id]
    assert book.get_client(c.id).name == "Олена Коваленко"


def test_consent_gates_the_whatsapp_link(book):
    c = book.add_client(client("Anna", ["0671234567"]))
    with pytest.raises(k.ApiError.NoConsent) as e:
        book.quick_message(c.id, "whatsapp", "Привіт", "android")
    assert e.value.channel == "whatsapp"
    consent = book.set_consent(c.id, "whatsapp", True, "written", "анкета")
    assert consent.granted == ["whatsapp"]
    assert consent.evidence[0].note == "анкета"
    m = book.quick_message(c.id, "whatsapp", "Привіт & до зустрічі", "android")
    assert m.link == "https://wa.me/380671234567?text=%D0%9F%D1%80%D0%B8%D0%B2%D1%96%D1%82%20%26%20%D0%B4%D0%BE%20%D0%B7%D1%83%D1%81%D1%82%D1%80%D1%96%D1%87%D1%96"
    book.set_consent(c.id, "sms", True, "written", "")
    sms = book.quick_message(c.id, "sms", "Привіт", "ios")
    assert (sms.sms_encoding, sms.sms_segments) == ("ucs2", 1)


def test_typed_errors_cross_the_boundary(book):
    with pytest.raises(k.ApiError.Validation) as e:
        book.add_client(client("X", email="not-an-email"))
    assert e.value.field == "email"
    with pytest.raises(k.ApiError.NotFound):
        book.get_client("01234567-89ab-7def-8123-456789abcdef")
    with pytest.raises(k.ApiError.Validation):
        book.get_client("not an id")
    nobody = book.add_client(client("Без номера"))
    book.set_consent(nobody.id, "sms", True, "verbal", "")
    with pytest.raises(k.ApiError.NoAddress):
        book.quick_message(nobody.id, "sms", "x", "android")


def test_phone_book_contacts_are_previewed_and_imported(book):
    book.add_client(client("Anna Nowak", ["+48 601 234 567"]))

    def contact(given, family, numbers, account=None):
        return k.ContactRec(given_name=given, family_name=family, display_name=None,
                            phones=[k.ContactPhoneRec(number=n, label="mobile") for n in numbers],
                            emails=[], birthday=None, note=None, platform_id=None, account=account)

    contacts = [
        contact("Олена", "Коваленко", ["067 123 45 67"]),
        contact("Олена", "Коваленко", ["+380671234567"], account="com.whatsapp"),
        contact("Anna", "Nowak", ["601 234 567"]),
        contact(None, None, []),
    ]
    p = book.preview_import(contacts)
    assert [i.status for i in p.items] == ["new", "duplicate", "merge_candidate", "invalid"]
    assert (p.new, p.duplicate, p.merge_candidate, p.invalid) == (1, 1, 1, 1)
    created = book.import_contacts(contacts, [])
    assert len(created) == 1
    assert book.import_contacts(contacts, []) == []


class Recorder(k.ChangeListener):
    def __init__(self):
        self.calls = []

    def clients_changed(self, client_ids):
        self.calls.append(client_ids)


def test_the_change_listener_hears_every_write(book):
    rec = Recorder()
    book.set_change_listener(rec)
    c = book.add_client(client("Олена", ["0671234567"]))
    book.set_consent(c.id, "sms", True, "written", "")
    assert rec.calls == [[c.id], [c.id]]
    book.set_change_listener(None)
    book.add_client(client("Ірина"))
    assert len(rec.calls) == 2


def test_visits_agenda_and_history(book):
    c = book.add_client(client("Олена", ["0671234567"]))
    v = book.add_visit(k.NewVisitRec(client_id=c.id, start="2026-12-01T08:00:00Z", duration_min=60,
                                     services=[k.ServiceRec(name="Манікюр", price=80000, quantity=1)],
                                     total=None, paid=0))
    assert (v.zone, v.total, v.status) == ("Europe/Kyiv", 80000, "booked")
    book.set_visit_status(v.id, "completed")
    assert book.get_client(c.id).sold == 80000
    day = book.agenda("2026-12-01T00:00:00+02:00", "2026-12-02T00:00:00+02:00")
    assert [x.id for x in day] == [v.id]
    with pytest.raises(k.ApiError.Validation):
        book.agenda("tomorrow", "later")
    with pytest.raises(k.ApiError.NoConsent):
        book.record_message(c.id, "sms", "Дякуємо!")
    book.set_consent(c.id, "sms", True, "written", "")
    book.record_message(c.id, "sms", "Дякуємо!")
    assert [(m.channel, m.status) for m in book.history(c.id)] == [("sms", "handed_to_app")]


def test_templates_and_rules_are_kept_in_the_settings(book):
    with pytest.raises(k.ApiError.Validation) as e:
        book.put_template(k.TemplateRec(id="", name="Bad", channel="sms", body="Hi {clint_name}"))
    assert e.value.field == "template"
    assert book.templates() == []
    t = book.put_template(k.TemplateRec(id="", name="Нагадування", channel="sms", body="{client_name}, чекаємо вас {visit_date} о {visit_time}"))
    assert t.id and [x.name for x in book.templates()] == ["Нагадування"]
    r = book.put_rule(k.RuleRec(id="", name="За добу", trigger="reminder_before", offset_min=1440,
                                channels=["sms"], template_id=t.id, working_hours_only=True,
                                statuses=["booked", "confirmed"], enabled=True))
    assert [x.id for x in book.rules()] == [r.id]
    assert book.rules()[0].statuses == ["booked", "confirmed"]
    with pytest.raises(k.ApiError.Validation):
        book.put_rule(k.RuleRec(id="", name="X", trigger="visit_created", offset_min=0, channels=["pigeon"],
                                template_id=None, working_hours_only=False, statuses=[], enabled=True))
    book.set_working_hours(0, "09:00-13:00,14:00-19:00")
    with pytest.raises(k.ApiError.Validation):
        book.set_working_hours(0, "late")
    book.remove_rule(r.id)
    book.remove_template(t.id)
    assert book.rules() == [] and book.templates() == []


def test_two_cards_of_one_person_are_merged_and_the_merge_undone(book):
    keep = book.add_client(client("Олена Коваль", ["0671234567"]))
    other = book.add_client(client("Олена К.", ["0501112233"], email="olena@example.com"))
    book.set_consent(keep.id, "sms", True, "written", "")
    seen = []

    class Listener(k.ChangeListener):
        def clients_changed(self, client_ids):
            seen.append(sorted(client_ids))

    book.set_change_listener(Listener())
    p = book.preview_merge(keep.id, other.id)
    assert sorted(x.e164 for x in p.phones) == ["+380501112233", "+380671234567"]
    assert p.email == "olena@example.com"
    assert p.consent["sms"] is False and p.withdrawn == ["sms"]  # the stricter card wins
    undo = book.merge_clients(keep.id, other.id)
    assert seen[-1] == sorted([keep.id, other.id])
    assert [m.undo_id for m in book.undoable_merges()] == [undo]
    assert [x.id for x in book.search("олена", 0, 50)] == [keep.id]
    book.undo_merge(undo)
    assert sorted(x.id for x in book.search("олена", 0, 50)) == sorted([keep.id, other.id])
    with pytest.raises(k.ApiError.NotFound):
        book.preview_merge(keep.id, "01234567-89ab-7def-8123-456789abcdef")


def test_the_telegram_bot_link(book):
    c = book.add_client(client("Олена"))
    # The server signs start links: an unpaired book cannot make one.
    with pytest.raises(k.ApiError.NotPaired):
        book.telegram_bot_link(c.id)
    with pytest.raises(k.ApiError.Validation):
        book.set_telegram_bot("not a bot")
    book.set_telegram_bot("studio_bot")


def test_exports(book, tmp_path):
    c = book.add_client(client("Олена Коваль", ["0671234567"]))
    book.set_consent(c.id, "sms", True, "written", "анкета")
    import json, csv
    one = json.loads(book.export_client(c.id))
    assert one["client"]["name"] == "Олена Коваль"
    assert one["consent"]["evidence"][0]["note"] == "анкета"
    assert book.export_book(str(tmp_path / "book.csv"), "csv") == 1
    with open(tmp_path / "book.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert rows[0]["name"] == "Олена Коваль" and rows[0]["consent_sms"] == "true"
    assert book.export_book(str(tmp_path / "book.json"), "json") == 1
    with pytest.raises(k.ApiError.Validation):
        book.export_book(str(tmp_path / "book.xml"), "xml")


def test_forget_client(book):
    kept = book.add_client(client("Ірина Залишена", ["0671112233"]))
    gone = book.add_client(client("Олена Забута", ["0679998877"]))
    rec = Recorder()
    book.set_change_listener(rec)
    book.forget_client(gone.id)
    assert rec.calls == [[gone.id]]
    with pytest.raises(k.ApiError.NotFound):
        book.get_client(gone.id)
    assert book.get_client(kept.id).name == "Ірина Залишена"
    with pytest.raises(k.ApiError.NotFound):
        book.forget_client(gone.id)


def test_encrypted_book(tmp_path):
    path = str(tmp_path / "secret.db")
    key = bytes(range(32))
    book = k.ClientBook.open_encrypted(path, key)
    book.init_business(k.NewBusinessRec(name="Салон", region="UA", zone="Europe/Kyiv", currency="UAH", locale="uk"))
    c = book.add_client(client("Олена Шифрована", ["0671234567"]))
    del book
    with open(path, "rb") as f:
        assert not f.read(16).startswith(b"SQLite format 3")
    with pytest.raises(k.ApiError.WrongKey):
        k.ClientBook.open_encrypted(path, bytes(32))
    with pytest.raises(k.ApiError.WrongKey):
        k.ClientBook.open(path)
    with pytest.raises(k.ApiError.Validation):
        k.ClientBook.open_encrypted(path, b"short")
    again = k.ClientBook.open_encrypted(path, key)
    assert again.get_client(c.id).name == "Олена Шифрована"


def test_the_card_edits_and_shows_what_the_apps_need(book):
    c = book.add_client(client("Олена Коваленко", ["067 123 45 67"]))
    book.add_client(client("Олена Мельник", ["067 123 45 68"]))
    c = book.update_client(c.id, k.ClientPatchRec(client_class="vip", add_tags=["нарощення"], loyalty_card="A-17", discount_percent=10, email="olena@example.com"))
    assert (c.client_class, c.tags, c.loyalty_card, c.discount_percent) == ("vip", ["нарощення"], "A-17", 10)
    assert [x.name for x in book.find_clients("олена", "vip", None, 0, 50)] == ["Олена Коваленко"]
    assert [x.name for x in book.find_clients("", None, "нарощення", 0, 50)] == ["Олена Коваленко"]
    # An empty string clears an optional field.
    assert book.update_client(c.id, k.ClientPatchRec(email="")).email is None
    actions = {a.action: a for a in book.card_actions(c.id)}
    assert actions["call"].enabled and not actions["sms"].enabled
    assert actions["sms"].reason == "no consent for sms"
    assert book.call_link(c.id) == "tel:+380671234567"
    office = book.add_client(client("Бухгалтерія", ["044 235 12 34 доб. 5"]))
    assert office.phones[0].extension == "5"
    assert book.call_link(office.id) == "tel:+380442351234;ext=5"
    assert book.dial_link(office.id) == "tel:+380442351234,5"
    info = k.sms_info("Привіт, Олено!")
    assert (info.encoding, info.segments, info.per_segment) == ("ucs2", 1, 70)
    assert book.format_money(120050) == "1\u00a0200,50\u00a0₴"
    assert book.parse_money("800,5") == 80050
    # Dates in the screen's language on the salon's clock (Kyiv: UTC+2 in December).
    at = "2026-12-01T08:00:00Z"
    assert book.format_when(at, "uk") == "вівторок, 1 грудня 2026, 10:00"
    assert book.format_moment(at, "pl") == "1 grudnia 2026, 10:00"
    assert book.format_day("2026-12-01", "ru-RU") == "вторник, 1 декабря 2026"
    assert book.format_day("2026-12-01", "de") == "Tuesday, 1 December 2026"
    with pytest.raises(k.ApiError.Validation):
        book.format_day("01.12.2026", "uk")
    with pytest.raises(k.ApiError.Validation):
        book.format_when("tomorrow", "uk")
    with pytest.raises(k.ApiError.Validation):
        book.update_client(c.id, k.ClientPatchRec(birthday="31.02"))


def test_a_visit_is_rescheduled_paid_and_its_reminder_turned_off(book):
    c = book.add_client(client("Anna", ["0671234567"]))
    v = book.add_visit(k.NewVisitRec(client_id=c.id, start="2026-12-01T08:00:00Z", duration_min=60, services=[k.ServiceRec(name="Манікюр", price=80000, quantity=1)], total=None, paid=0))
    assert (v.reminder, v.note) == ("default", None)
    v = book.update_visit(v.id, k.VisitPatchRec(start="2026-12-02T09:30:00Z", paid=80000, reminder="off", note="з дизайном"))
    assert (v.start, v.paid, v.reminder, v.note, v.total) == ("2026-12-02T09:30:00+00:00", 80000, "off", "з дизайном", 80000)
    assert [x.id for x in book.client_visits(c.id)] == [v.id]
    # Paid ahead: the client is in credit until the visit is completed.
    assert book.get_client(c.id).balance == -80000
    book.set_visit_status(v.id, "completed")
    assert (book.get_client(c.id).sold, book.get_client(c.id).balance) == (80000, 0)
    with pytest.raises(k.ApiError.Validation):
        book.update_visit(v.id, k.VisitPatchRec(reminder="soon"))
    b = book.business()
    assert (b.name, b.currency, len(b.working_hours)) == ("Студія", "UAH", 7)
    assert book.set_business_details("Студія Олени", "+380501112233").phone == "+380501112233"
    assert book.sync_info().paired is False
