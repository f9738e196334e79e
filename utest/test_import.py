import subprocess
import sys


def test_importing_the_library_sends_nothing_and_does_not_load_requests():
    """Robots pay for the library's import at every start: requests comes with the
    first session, and nothing is sent at import even without any configuration."""
    code = (
        "import sys, os\n"
        "for k in ('RC_API_KEY', 'RC_WORKSPACE_ID', 'RC_API_TOKEN_V1'): os.environ.pop(k, None)\n"
        "from ProcessRunLibrary import ProcessRunLibrary\n"
        "ProcessRunLibrary()\n"
        "print(sorted(m for m in ('requests', 'urllib3', 'aiohttp') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
