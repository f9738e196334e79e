from ProcessRunLibrary import ProcessRunLibrary
from ProcessRunLibrary.listener import PRIORITY, SecretsListener


def test_the_listener_knows_the_arguments_of_each_keyword_that_takes_a_secret():
    """Robot logs arguments at TRACE before the keyword runs; the listener learns the
    secret among them first (see Logging and secrets)."""
    library = ProcessRunLibrary()
    listener = library.ROBOT_LIBRARY_LISTENER[0]  # with a keyword watcher on Robot 6.1
    assert isinstance(listener, SecretsListener)
    assert listener.ROBOT_LISTENER_PRIORITY == PRIORITY
    positions = {
        name: [i for i, arg in enumerate(args) if arg in ("api_key", "token", "callback_secret")]
        for name, args in listener.arguments.items()
    }
    assert positions == {
        "createcontrolroomsession": [3],  # api_key
        "startprocessrunforintegration": [3],  # token
        "startprocessrun": [6],  # callback_secret
        "startprocessrunandwait": [6],
    }
