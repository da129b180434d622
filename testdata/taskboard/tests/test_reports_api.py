from conftest import ADA, BO


def test_slow_report_small_size(client):
    response = client.get("/reports/slow", params={"size": 1000})
    assert response.status_code == 200
    assert response.json() == {"size": 1000, "rows": 1000}
    assert client.get("/reports/slow", params={"size": 0}).status_code == 422


def test_workload(client):
    response = client.get("/reports/workload", headers=ADA)
    assert response.status_code == 200
    assert response.json() == [
        {"user_id": 3, "name": "Cy", "open_tasks": 2, "done_tasks": 0},
        {"user_id": 1, "name": "Ada", "open_tasks": 1, "done_tasks": 0},
        {"user_id": 2, "name": "Bo", "open_tasks": 1, "done_tasks": 1},
    ]
    assert client.get("/reports/workload", headers=BO).status_code == 403


def test_workload_reflects_writes(client):
    client.post("/tasks/2/complete", headers=BO)
    rows = {row["user_id"]: row for row in client.get("/reports/workload", headers=ADA).json()}
    assert (rows[2]["open_tasks"], rows[2]["done_tasks"]) == (0, 2)


def test_status_counts(client):
    response = client.get("/reports/status-counts", headers=BO)
    assert response.status_code == 200
    assert response.json() == {"todo": 3, "doing": 2, "done": 1}
    assert client.get("/reports/status-counts").status_code == 401
