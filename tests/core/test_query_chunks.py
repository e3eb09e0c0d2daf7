"""Ids in chunks, read by keyset pages; long id lists passed as one parameter."""

from __future__ import annotations

import pytest

from clientledger.accounts.models import Agency
from clientledger.core.query import id_chunks, ids_in
from tests.factories import AgencyFactory

pytestmark = pytest.mark.django_db


def test_ids_come_in_chunks_of_the_size_asked_within_each_page() -> None:
    ids = [AgencyFactory().pk for _ in range(5)]

    chunks = list(id_chunks(Agency.objects.all(), size=2, page=3))

    assert chunks == [ids[0:2], ids[2:3], ids[3:5]]


def test_rows_gone_while_reading_leave_no_gap_and_come_back_in_no_chunk() -> None:
    ids = [AgencyFactory().pk for _ in range(4)]
    read: list[list[int]] = []

    for chunk in id_chunks(Agency.objects.all(), size=1, page=2):
        read.append(chunk)
        Agency.objects.filter(pk__in=chunk).delete()

    assert read == [[pk] for pk in ids]


def test_ids_in_finds_the_rows_of_the_ids_given_and_no_other() -> None:
    agencies = [AgencyFactory() for _ in range(4)]
    wanted = [agencies[0].pk, agencies[2].pk, agencies[3].pk + 1000]

    found = Agency.objects.filter(pk__in=ids_in(wanted)).order_by("pk")

    assert list(found.values_list("pk", flat=True)) == [agencies[0].pk, agencies[2].pk]
