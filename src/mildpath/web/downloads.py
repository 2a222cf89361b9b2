"""A file to download, for the API and the pages alike: the body, its media type and the name it is saved under."""

from __future__ import annotations

from fastapi.responses import Response

CALENDAR = "text/calendar; charset=utf-8"
CSV = "text/csv; charset=utf-8"
FHIR_JSON = "application/fhir+json"
PDF = "application/pdf"


def attachment(body: bytes | str, media_type: str, filename: str, *, private: bool = False) -> Response:
    """``body`` as a download named ``filename``; ``private``: not to be kept by any cache (a patient's file)."""
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if private:
        headers["Cache-Control"] = "private, no-store"
    return Response(body, media_type=media_type, headers=headers)
