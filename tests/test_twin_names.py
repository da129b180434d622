from async_migrate.codemods import twin_names


def test_the_first_free_name_is_the_suffixed_one_then_numbered():
    assert twin_names.free("get_async", set().__contains__) == "get_async"
    assert twin_names.free("get_async", {"get_async", "get_async_2"}.__contains__) == "get_async_3"


def test_verify_pairs_a_function_only_with_names_phase_two_can_give_its_twin():
    assert twin_names.is_twin("get_user", "get_user", "_async")
    assert twin_names.is_twin("get_user", "get_user_async", "_async")
    assert twin_names.is_twin("get_user", "get_user_async_3", "_async")
    assert not twin_names.is_twin("get_user", "get_user_async_x", "_async")
    assert not twin_names.is_twin("get_user", "get_user_asyncio", "_async")
    assert not twin_names.is_twin("get_user", "get_user_async", "")
