def test_upload_download_and_list(client, storage_dir):
    assert client.get("/assets").json() == []
    response = client.put("/assets/cover-1.png", content=b"\x89PNG fake")
    assert response.status_code == 201
    assert response.json() == {"name": "cover-1.png", "size": 9}
    assert (storage_dir / "cover-1.png").read_bytes() == b"\x89PNG fake"
    download = client.get("/assets/cover-1.png")
    assert download.status_code == 200
    assert download.content == b"\x89PNG fake"
    assert download.headers["content-type"] == "image/png"
    client.put("/assets/blurb.txt", content=b"hello")
    assert client.get("/assets").json() == ["blurb.txt", "cover-1.png"]


def test_overwrite_and_delete(client, storage_dir):
    client.put("/assets/notes.bin", content=b"one")
    client.put("/assets/notes.bin", content=b"two!")
    assert client.get("/assets/notes.bin").content == b"two!"
    assert client.delete("/assets/notes.bin").status_code == 204
    assert not (storage_dir / "notes.bin").exists()
    assert client.delete("/assets/notes.bin").status_code == 404
    assert client.get("/assets/notes.bin").status_code == 404


def test_invalid_names_are_rejected(client, storage_dir):
    assert client.put("/assets/.hidden", content=b"x").status_code == 400
    assert client.get("/assets/bad name").status_code == 400
    assert client.delete("/assets/-leading-dash").status_code == 400
