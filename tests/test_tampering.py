import base64

from hypothesis import given
from hypothesis import strategies as st

from .tampering import tamper


def _decoded(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@given(st.binary(min_size=1, max_size=96), st.sampled_from(["", "header.payload."]))
def test_a_tampered_value_never_decodes_to_the_same_bytes(value: bytes, prefix: str) -> None:
    encoded = base64.urlsafe_b64encode(value).rstrip(b"=").decode()
    changed = tamper(prefix + encoded)
    assert changed.startswith(prefix)
    assert _decoded(changed.removeprefix(prefix)) != value


def test_the_old_way_could_keep_the_signature() -> None:
    # Why the helper exists: the last character's spare bits are ignored.
    value = bytes(range(32))
    encoded = base64.urlsafe_b64encode(value).rstrip(b"=").decode()
    assert encoded.endswith("8")  # 0x1f: its last character holds 4 bits, the rest spare
    kept = encoded[:-1] + chr(ord(encoded[-1]) + 1)
    assert _decoded(kept) == value
    assert _decoded(tamper(encoded)) != value
