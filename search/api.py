"""HTTP routes of the search (``GET /api/search``)."""
from fastapi import APIRouter

router = APIRouter()
