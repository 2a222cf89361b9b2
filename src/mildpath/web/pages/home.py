"""The start page and each signed-in person's home."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mildpath.web.deps import PatientSelf, PublicActor
from mildpath.web.pages._common import redirect, render

router = APIRouter(include_in_schema=False)


@router.get("/")
def index(request: Request, actor: PublicActor) -> Response:
    if actor.role in ("clinician", "admin"):
        return redirect("/patients")
    if actor.role == "patient":
        return redirect("/me")
    return render(request, "home.html")


@router.get("/me")
def my_home(request: Request, actor: PatientSelf) -> Response:
    """A patient's home is their own chart."""
    return redirect(f"/patients/{actor.patient_id}")
