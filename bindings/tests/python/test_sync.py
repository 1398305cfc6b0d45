"""Pairing and sync through the Python bindings against a real kartka-server process on
loopback (the binary built by scripts/test-bindings, given in KARTKA_SERVER_BIN)."""
import os
import subprocess
import threading

import pytest

import kartka_ffi as k


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    d = tmp_path_factory.mktemp("server")
    p = subprocess.Popen(
        [os.environ["KARTKA_SERVER_BIN"], "--bind", "127.0.0.1:0"],
        cwd=d, stdout=subprocess.PIPE, env={**os.environ, "KARTKA_LOG": "warn"},
    )
    line = p.stdout.readline().decode().strip()
    assert line.startswith("listening on "), line
    yield line.removeprefix("listening on ")
    p.terminate()
    assert p.wait(timeout=30) == 0


def owner_book(tmp_path, server):
    a = k.ClientBook.open(str(tmp_path / "a.db"))
    a.init_business(k.NewBusinessRec(name="Студія", region="UA", zone="Europe/Kyiv", currency="UAH", locale="uk"))
    return a


def new_client(name):
    return k.NewClientRec(name=name, phones=["0671234567"], email=None, birthday=None, comment=None, client_class=None, tags=[])


class Recorder(k.ChangeListener):
    def __init__(self):
        self.changed = []

    def clients_changed(self, client_ids):
        self.changed.extend(client_ids)


def test_two_books_converge_through_a_real_server(tmp_path, server):
    a = owner_book(tmp_path, server)
    olena = a.add_client(new_client("Олена Коваленко"))
    paired = a.pair_create_business(server, "phone A")
    assert paired.business_id
    assert a.sync_now().pushed == 2
    code = a.invite().code

    b = k.ClientBook.open(str(tmp_path / "b.db"))
    b.pair_join(server, code, "phone B")
    heard = Recorder()
    b.set_change_listener(heard)
    report = b.sync_now()
    assert report.pulled == 2
    assert heard.changed == [olena.id]
    assert b.get_client(olena.id).name == "Олена Коваленко"

    b.set_consent(olena.id, "sms", True, "written", "анкета")
    assert b.sync_now().pushed == 1
    assert a.sync_now().pulled == 1
    assert a.get_client(olena.id).consented == ["sms"]


def test_sync_errors_are_typed(tmp_path, server):
    lonely = k.ClientBook.open(str(tmp_path / "lonely.db"))
    with pytest.raises(k.ApiError.NotPaired):
        lonely.sync_now()
    with pytest.raises(k.ApiError.Server) as e:
        lonely.pair_join(server, "NOTACODE22", "phone")
    assert e.value.code == "invite_invalid"
    other = k.ClientBook.open(str(tmp_path / "other.db"))
    other.init_business(k.NewBusinessRec(name="S", region="UA", zone="Europe/Kyiv", currency="UAH", locale=None))
    with pytest.raises(k.ApiError.Network):
        other.pair_create_business("http://127.0.0.1:9", "nowhere")


class Statuses(k.SyncStatusListener):
    def __init__(self):
        self.seen = []
        self.pulled = threading.Event()
        self.stopped = threading.Event()

    def sync_status(self, status):
        self.seen.append(status)
        if status.is_synced() and status.report.pulled > 0:
            self.pulled.set()
        if status.is_stopped():
            self.stopped.set()


def test_the_background_loop_brings_edits_made_elsewhere(tmp_path, server):
    a = owner_book(tmp_path, server)
    a.pair_create_business(server, "phone A")
    a.sync_now()
    b = k.ClientBook.open(str(tmp_path / "b.db"))
    b.pair_join(server, a.invite().code, "phone B")
    b.sync_now()
    statuses = Statuses()
    b.start_sync(5, statuses)
    marta = a.add_client(new_client("Марта"))
    a.sync_now()
    assert statuses.pulled.wait(20), statuses.seen
    assert b.get_client(marta.id).name == "Марта"
    b.stop_sync()
    assert statuses.stopped.wait(20)


def synced_until(book, done, timeout=20.0):
    """Syncs until `done()` holds: the server sends and records on its own loops."""
    import time

    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "the server did not get there in time"
        book.sync_now()
        time.sleep(0.2)


def test_replies_notes_and_mailings_through_a_real_server(tmp_path, server):
    a = owner_book(tmp_path, server)
    for day in range(7):
        a.set_working_hours(day, "00:00-24:00")  # the mailing may go whenever CI runs
    olena = a.put_staff(k.StaffRec(id="", name="Олена", email="olena@example.com", telegram=None, active=True))
    a.set_current_staff(olena)
    c = a.add_client(new_client("Ірина"))
    # No consent: refused, typed.
    with pytest.raises(k.ApiError.NoConsent):
        a.reply(c.id, "sms", "Так, о 15:00", None)
    # WhatsApp with nothing from the client in 24 hours: only an approved template.
    with pytest.raises(k.ApiError.WhatsAppWindowClosed):
        a.reply(c.id, "whatsapp", "Так", None)
    assert a.whatsapp_window(c.id) is None
    for subject in ("sms", "marketing"):
        a.set_consent(c.id, subject, True, "written", "анкета")
    queued = a.reply(c.id, "sms", "Так, о 15:00", None)
    assert (queued.kind, queued.status) == ("reply", "queued")
    a.change_conversation(c.id, "closed", None, olena)
    a.add_note(c.id, "Записала на п'ятницю")
    mailing = a.start_mailing("Весна", "sms", "{client_name}, весняна знижка", k.AudienceRec(), None)
    assert (mailing.total, mailing.pending) == (1, 1)

    a.pair_create_business(server, "phone A")
    synced_until(a, lambda: [m.status for m in a.history(c.id) if m.kind in ("reply", "mailing")] == ["sent", "sent"])
    assert a.mailings()[0].sent == 1 and a.mailings()[0].pending == 0

    b = k.ClientBook.open(str(tmp_path / "b.db"))
    b.pair_join(server, a.invite().code, "phone B")
    b.sync_now()
    entry = b.inbox("closed", 0, 10)[0]
    assert (entry.client_id, entry.staff_id) == (c.id, olena)
    # Replying took the conversation for Olena already: only the closing is news.
    assert [n.body for n in b.notes(c.id)] == ["Олена closed the conversation", "Записала на п'ятницю"]
    assert b.mailings()[0].sent == 1
    assert [s.name for s in b.staff()] == ["Олена"]


class States(k.SyncStateListener):
    def __init__(self):
        self.seen = []

    def sync_state_changed(self, state):
        self.seen.append(state)


def start_server(d, bind="127.0.0.1:0"):
    p = subprocess.Popen(
        [os.environ["KARTKA_SERVER_BIN"], "--bind", bind],
        cwd=d, stdout=subprocess.PIPE, env={**os.environ, "KARTKA_LOG": "warn"},
    )
    line = p.stdout.readline().decode().strip()
    assert line.startswith("listening on "), line
    return p, line.removeprefix("listening on ")


def test_the_sync_state_follows_the_server_away_and_back(tmp_path):
    d = tmp_path / "server"
    d.mkdir()
    p, url = start_server(d)
    a = owner_book(tmp_path, url)
    heard = States()
    a.observe_sync_state(heard)
    # Told at once: never paired, the settings waiting.
    first = heard.seen[0]
    assert (first.paired, first.pending, first.link.is_unknown()) == (False, 1, True)

    a.pair_create_business(url, "phone A")
    a.sync_now()
    st = a.sync_state()
    assert st.link.is_connected() and st.pending == 0 and st.has_synced
    assert st.last_synced_at is not None and st.last_error is None
    assert heard.seen[-1] == st
    assert any(s.syncing for s in heard.seen), "the sync under way is told"

    p.kill()
    p.wait()
    told = len(heard.seen)
    a.add_client(new_client("Офлайн 1"))
    a.add_client(new_client("Офлайн 2"))
    # Every edit moves the count at once, without a sync.
    assert [s.pending for s in heard.seen[told:]] == [1, 2]
    with pytest.raises(k.ApiError.Network) as e:
        a.sync_now()
    assert "unreachable (connection refused)" in e.value.detail
    st = a.sync_state()
    assert st.link.is_offline() and st.pending == 2
    assert st.last_error.kind == k.SyncProblemKind.UNREACHABLE
    assert heard.seen[-1] == st

    p, again = start_server(d, url.removeprefix("http://"))
    assert again == url
    try:
        a.sync_now()
        st = a.sync_state()
        assert st.link.is_connected() and st.pending == 0 and st.last_error is None
        a.stop_observing_sync_state()
        told = len(heard.seen)
        a.add_client(new_client("Після"))
        assert len(heard.seen) == told, "no one is told after unsubscribing"
    finally:
        p.terminate()
        p.wait(timeout=30)
