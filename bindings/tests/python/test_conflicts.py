"""Edits made on two books at once, read and settled through the Python bindings; the books sync
through a real kartka-server process on loopback (KARTKA_SERVER_BIN). The behaviour itself is
tested in Rust (core/tests/conflicts.rs); this proves the records and errors."""
import pytest

import kartka_ffi as k
from test_sync import server  # noqa: F401  (the fixture)


def patch(**kw):
    return k.ClientPatchRec(**kw)


def test_conflicts_are_read_with_who_made_them_and_settled_once(tmp_path, server):  # noqa: F811
    a = k.ClientBook.open(str(tmp_path / "a.db"))
    a.init_business(k.NewBusinessRec(name="Студія", region="UA", zone="Europe/Kyiv", currency="UAH", locale="uk"))
    anna = a.add_client(k.NewClientRec(name="Anna", phones=["+380671111111"], email=None, birthday=None, comment=None, client_class=None, tags=[]))
    a.pair_create_business(server, "phone A")
    a.sync_now()
    b = k.ClientBook.open(str(tmp_path / "b.db"))
    b.pair_join(server, a.invite().code, "phone B")
    b.sync_now()

    a.update_client(anna.id, patch(comment="likes tea", birthday="1990-05-17"))
    b.update_client(anna.id, patch(comment="prefers mornings", birthday="--05-18"))
    a.sync_now()
    b.sync_now()
    a.sync_now()

    conflicts = {c.field: c for c in b.client_conflicts(anna.id)}
    assert sorted(conflicts) == ["birthday", "comment"]
    comment = conflicts["comment"]
    assert sorted(v.display for v in comment.values) == ["likes tea", "prefers mornings"]
    assert comment.values[comment.current].display == b.get_client(anna.id).comment
    assert {v.by_name for v in comment.values} == {"phone A", "phone B"}
    assert [v.by_this_device for v in comment.values if v.display == "prefers mornings"] == [True]
    assert not comment.can_keep_all

    with pytest.raises(k.ApiError.Validation):
        b.settle_conflict(anna.id, "comment", None)
    keep = [v.display for v in comment.values].index("likes tea")
    assert b.settle_conflict(anna.id, "comment", keep).comment == "likes tea"
    with pytest.raises(k.ApiError.NoConflict):
        b.settle_conflict(anna.id, "comment", 0)
    b.settle_conflict(anna.id, "birthday", 0)

    b.sync_now()
    a.sync_now()
    assert a.client_conflicts(anna.id) == []
    assert a.get_client(anna.id).comment == "likes tea"
