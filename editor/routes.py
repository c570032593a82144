"""Editor pages and API routes."""
from fastapi import APIRouter

router = APIRouter()
