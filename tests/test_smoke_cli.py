from conftest import BOOKSHOP


def test_phase1_dry_run_on_the_sample_prints_a_diff_and_writes_nothing(cli, tmp_path):
    import shutil

    target = tmp_path / "bookshop"
    shutil.copytree(BOOKSHOP, target)
    before = {p: p.read_bytes() for p in target.rglob("*.py")}
    result = cli("phase1", target)
    assert result.exit_code == 0
    assert "-async def list_books(" in result.stdout
    assert "+def list_books(" in result.stdout
    assert {p: p.read_bytes() for p in target.rglob("*.py")} == before
