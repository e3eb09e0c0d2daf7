import pytest
from django.test import Client as HttpClient


@pytest.mark.django_db
def test_the_health_check_answers_ok(client: HttpClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
