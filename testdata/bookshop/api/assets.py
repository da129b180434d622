"""Cover images and other uploaded files.

The storage client is blocking, so every call goes through the threadpool.
"""

import mimetypes

from fastapi import APIRouter, HTTPException, Request, Response, status
from fastapi.concurrency import run_in_threadpool

from services import storage

router = APIRouter(prefix="/assets", tags=["assets"])

MAX_ASSET_BYTES = 5 * 1024 * 1024


def _check_name(name: str) -> None:
    try:
        storage.validate_name(name)
    except storage.InvalidBlobName:
        raise HTTPException(status_code=status.HTTP_400_BAD_REQUEST, detail="Invalid asset name") from None


@router.get("")
async def list_assets() -> list[str]:
    return await run_in_threadpool(storage.list_blobs)


@router.put("/{name}", status_code=status.HTTP_201_CREATED)
async def upload_asset(name: str, request: Request) -> dict[str, object]:
    _check_name(name)
    data = await request.body()
    if len(data) > MAX_ASSET_BYTES:
        raise HTTPException(status_code=status.HTTP_413_CONTENT_TOO_LARGE, detail="Asset too large")
    size = await run_in_threadpool(storage.write_blob, name, data)
    return {"name": name, "size": size}


@router.get("/{name}")
async def download_asset(name: str) -> Response:
    _check_name(name)
    data = await run_in_threadpool(storage.read_blob, name)
    if data is None:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="Asset not found")
    media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return Response(content=data, media_type=media_type)


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_asset(name: str) -> None:
    _check_name(name)
    if not await run_in_threadpool(storage.delete_blob, name):
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="Asset not found")
