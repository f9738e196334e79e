from ProcessRunLibrary import ProcessRunLibrary


def test_the_listener_knows_where_each_keyword_takes_a_secret_positionally():
    """Robot logs positional arguments at TRACE before the keyword runs; the listener
    learns the secret among them first (see Logging and secrets)."""
    assert ProcessRunLibrary()._secret_positions == {
        "createcontrolroomsession": [3],  # api_key
        "startprocessrunforintegration": [3],  # token
        "startprocessrun": [6],  # callback_secret
        "startprocessrunandwait": [6],
    }
