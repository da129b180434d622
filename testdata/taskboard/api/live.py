"""Live task board for the office wall displays."""

from fastapi import APIRouter, WebSocket, WebSocketDisconnect, status

from models.project import Projects
from models.task import Tasks

router = APIRouter(tags=["live"])


# async-migrate: ignore[blocking-session] websocket handler: stays async def until the board moves to AsyncSession
@router.websocket("/ws/projects/{project_id}")
async def project_board(websocket: WebSocket, project_id: int):
    """Send the board, then answer ``{"action": "get", "task_id": N}`` lookups."""
    await websocket.accept()
    if not Projects.exists(project_id):
        await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason="unknown project")
        return
    tasks = Tasks.for_project(project_id)
    await websocket.send_json({"type": "board", "tasks": [t.model_dump(mode="json") for t in tasks]})
    try:
        while True:
            message = await websocket.receive_json()
            if message.get("action") == "close":
                await websocket.close()
                return
            if message.get("action") != "get" or not isinstance(message.get("task_id"), int):
                await websocket.send_json({"type": "error", "detail": "Unsupported message"})
                continue
            task = Tasks.get_brief(message["task_id"])
            if task is None or task.project_id != project_id:
                await websocket.send_json({"type": "error", "detail": "Task not found"})
            else:
                await websocket.send_json({"type": "task", "task": task.model_dump(mode="json")})
    except WebSocketDisconnect:
        pass
