from __future__ import annotations

from pathlib import Path

from django.core.management import call_command
from django.test import override_settings


def test_production_static_collection_resolves_every_referenced_file(tmp_path: Path) -> None:
    """The manifest storage `make run` and production use refuses CSS pointing at missing files."""
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    with override_settings(STATIC_ROOT=tmp_path, STORAGES=storages):
        call_command("collectstatic", interactive=False, verbosity=0)
    assert (tmp_path / "staticfiles.json").exists()
