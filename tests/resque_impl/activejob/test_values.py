"""The Python stand-ins for Ruby's symbols, GlobalIDs and modules."""

from __future__ import annotations

import pytest

from resque_impl.activejob import GlobalID, RubyModule, Symbol


def test_a_symbol_is_its_name_wherever_a_string_key_is_used() -> None:
    data = {Symbol("amount"): 1}

    assert data["amount"] == 1
    assert repr(Symbol("amount")) == "Symbol('amount')"


def test_a_global_id_names_its_app_model_and_id() -> None:
    gid = GlobalID.create("shop", "Admin::User", "a b/c")

    assert str(gid) == "gid://shop/Admin::User/a%20b%2Fc"
    assert (gid.app, gid.model_name, gid.model_id) == ("shop", "Admin::User", "a b/c")
    assert GlobalID("gid://shop/User/42?expires=1").model_id == "42"


@pytest.mark.parametrize("uri", ["gid://app/User", "gid:///User/1", "http://app/User/1", "gid://app/User/1#x", ""])
def test_a_malformed_global_id_is_refused(uri: str) -> None:
    with pytest.raises(ValueError, match="malformed GlobalID"):
        GlobalID(uri)


@pytest.mark.parametrize("name", ["admin::Report", "Admin::", "Admin.Report", ""])
def test_a_ruby_module_name_must_be_a_constant(name: str) -> None:
    with pytest.raises(ValueError, match="is not a Ruby class or module name"):
        RubyModule(name)
