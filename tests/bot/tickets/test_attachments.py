"""Issue 18: which of a customer's files are kept: by size, by type, and by what the content really is (its
magic numbers, read by puremagic), never by the name or the claimed type alone."""

from __future__ import annotations

import hashlib

import pytest

from bot.tickets.attachments import MAX_FILES, Offered, accepted_type, clean_filename, keep, size_text
from tests.factories import make_ticket, plain_settings

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 40
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\n"
EXE = b"MZ\x90\x00" + b"\x00" * 60
ZIP = b"PK\x03\x04" + b"\x00" * 40


@pytest.mark.parametrize(("claimed", "data", "expected"), [
    ("image/png", PNG, ("image/png", None)),
    ("image/jpg", JPEG, ("image/jpeg", None)),                       # what some mail programs call it
    ("application/octet-stream", PDF, ("application/pdf", None)),    # unknown to the sender: the content says
    ("application/octet-stream", b"Order 48213, size M", ("text/plain", None)),
    ("text/csv", b"order,amount\n48213,19.99\n", ("text/csv", None)),
    ("text/plain", "Grüße, café".encode("latin-1"), ("text/plain", None)),
    ("image/png", EXE, (None, "it says it is image/png but its content is "
                              "application/vnd.microsoft.portable-executable")),
    ("text/plain", EXE, (None, "it says it is text/plain but is not text")),
    ("application/octet-stream", EXE, (None, "we do not take application/vnd.microsoft.portable-executable files")),
    ("application/zip", ZIP, (None, "we do not take application/zip files")),
    ("application/pdf", b"not a pdf at all", (None, "it says it is application/pdf but its content is something else")),
])
def test_the_content_decides_not_the_name(claimed, data, expected):
    assert accepted_type(Offered("file", claimed, data), plain_settings()) == expected


def test_size_and_the_settings_types_are_the_company_s():
    settings = plain_settings(mail_attachment_max_bytes=1024, mail_attachment_types=["application/pdf"])
    assert accepted_type(Offered("a.pdf", "application/pdf", PDF + b"0" * 1024), settings) == (
        None, "1.1 KB; we take files of up to 1 KB")
    assert accepted_type(Offered("a.png", "image/png", PNG), settings) == (None, "we do not take image/png files")


def test_names_lose_folders_and_control_characters():
    assert clean_filename("C:\\Users\\ada\\..\\receipt.pdf", 1) == "receipt.pdf"
    assert clean_filename("../../etc/passwd", 2) == "passwd"
    assert clean_filename("bad\r\nname\x00.txt", 3) == "badname.txt"
    assert clean_filename("   ", 4) == "attachment-4" and clean_filename(None, 5) == "attachment-5"
    assert len(clean_filename("x" * 500 + ".pdf", 6)) == 200


def test_sizes_are_never_rounded_below_a_limit():
    assert [size_text(n) for n in (100, 1024, 3009, 5 * 1024 * 1024, 5 * 1024 * 1024 + 1)] == [
        "100 bytes", "1 KB", "3 KB", "5 MB", "5.1 MB"]


def test_at_most_ten_files_a_message(session):
    ticket = make_ticket(session)
    kept, refused = keep(session=session, ticket=ticket, event=None, settings=plain_settings(),
                         files=[Offered(f"p{n}.png", "image/png", PNG) for n in range(MAX_FILES + 2)])
    assert len(kept) == MAX_FILES and [str(one) for one in refused] == [
        "p10.png: we take at most 10 files in one e-mail", "p11.png: we take at most 10 files in one e-mail"]
    assert {a.sha256 for a in kept} == {hashlib.sha256(PNG).hexdigest()}
