"""Editor pages and API routes: one router that app.py includes, made of the editor's smaller routers."""
from fastapi import APIRouter

from editor import api, media, pages

router = APIRouter()
router.include_router(api.router)
router.include_router(media.router)
router.include_router(pages.router)
