from __future__ import annotations

import string

from hypothesis import given
from hypothesis import strategies as st

from mlscope.release.redact import REDACTED, is_secret_key, redact, redact_text

SECRETS = [
    "AKIAIOSFODNN7EXAMPLE",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "xoxb-1234567890-abcdefghij",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
]


def test_known_shapes_are_redacted() -> None:
    for secret in SECRETS:
        out = redact_text(f"approved, see {secret} for details")
        assert secret not in out and REDACTED in out
    assert "hunter2" not in redact_text("db password=hunter2 ok")
    assert "s3cr3t" not in redact_text("token: 's3cr3t'")
    assert "pw" not in redact_text("postgresql://user:pw@host/db").split("@")[0].split(":")[-1]
    assert "abc.def.ghi" not in redact_text("Authorization: Bearer abc.def.ghi-jklmnop")


def test_plain_text_untouched() -> None:
    text = "promote v2: ndcg@10 up 0.012 (CI 0.004..0.02), approved by qa lead"
    assert redact_text(text) == text


def test_dict_keys() -> None:
    got = redact({"github_token": "x", "DB_PASSWORD": "y", "apiKey": "z", "max_tokens": 10,
                  "author": "a@b", "nested": [{"client_secret": "q"}]})
    assert got["github_token"] == got["DB_PASSWORD"] == got["apiKey"] == REDACTED
    assert got["max_tokens"] == 10 and got["author"] == "a@b"
    assert got["nested"][0]["client_secret"] == REDACTED
    assert not is_secret_key("tokenizer") and is_secret_key("aws_secret_access_key")


@given(st.text(alphabet=string.ascii_letters + string.digits, min_size=6, max_size=30),
       st.sampled_from(["password", "api_key", "secret", "token", "PASSWORD"]),
       st.sampled_from(["=", ": ", " = "]))
def test_any_secret_pair_is_hidden(value: str, key: str, sep: str) -> None:
    out = redact_text(f"reason with {key}{sep}{value} inside")
    assert value not in out.replace(key, "")


@given(st.from_regex(r"AKIA[0-9A-Z]{16}", fullmatch=True),
       st.from_regex(r"ghp_[A-Za-z0-9]{36}", fullmatch=True),
       st.text(alphabet=string.ascii_letters + " .,", max_size=40))
def test_generated_credentials_never_survive(aws_key: str, gh_token: str, text: str) -> None:
    out = redact({"reason": f"{text} {aws_key} {text}", "note": [f"use {gh_token}"]})
    assert aws_key not in str(out) and gh_token not in str(out)
