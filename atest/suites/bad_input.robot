*** Settings ***
Documentation     Bad input to every keyword and import argument fails before any request
...               is sent, with a message that names the argument and says what was
...               expected. Messages are asserted word for word (``EQUALS:``); the
...               private emulator's request log proves that nothing was sent.
...
...               Messages that start with ``ValueError:`` come from Robot Framework's own
...               argument conversion (enums, integers, lists, ``Time``). On Python 3.10,
...               ``typing`` makes every argument whose default is ``None`` optional, and
...               Robot then reports only "cannot be converted to Time or None": the tests
...               tagged ``python-3.11-messages`` assert the fuller message of 3.11 and newer,
...               and CI's Python 3.10 run leaves them out.

Resource          private_emulator.resource
Library           OperatingSystem
Library           Process

Suite Setup       Start Bad Input Suite
Suite Teardown    Run Keywords    Private.Stop Emulator    AND    Close All Control Room Sessions
Test Template     Is Refused Before Sending


*** Variables ***
${ID RULE}       must be an id without '/', '?', '#', '\\' or white space, got
${NOT JSON}      must be a dictionary, a list or a string holding JSON, got a string that is not JSON
${PYTHON}        ${{sys.executable}}
${TIME RULE}     expected a number of seconds or a time like '90 s' or '1 minute 30 seconds'.
${IMPORTED}      ProcessRunLibrary was imported with a bad argument:
${FINITE}        a time must be a finite number of seconds, not nan or infinity.
${HIDDEN}        must be an id without control or invisible characters, got
${NOT FINITE}    holds a number that is not finite (nan or infinity): JSON cannot carry it.
${NO USER}       must not hold a user name or password: Control Room authenticates with the API key.
${PORT RULE}     must have a port from 1 to 65535, got


*** Test Cases ***    EXPECTED MESSAGE    KEYWORD    ARGUMENTS
Empty process id
    Argument 'process_id' must be a non-empty string, got ''.
    ...    Start Process Run    ${EMPTY}
Process id with a slash
    Argument 'process_id' ${ID RULE} 'a/b' (contains '/').    Start Process Run    a/b
Process id with a question mark
    Argument 'process_id' ${ID RULE} 'a?b' (contains '?').    Start Process Run    a?b
Process id with a hash
    Argument 'process_id' ${ID RULE} 'a#b' (contains '#').    Start Process Run    a#b
Process id that is two dots
    Argument 'process_id' ${ID RULE} '..' (contains '..').    Start Process Run    ..
Process id with white space
    Argument 'process_id' ${ID RULE} 'has space' (contains ' ').    Start Process Run    has space
Process id with a NUL
    Argument 'process_id' ${HIDDEN} 'a\\x00b' (contains U+0000).    Start Process Run    ${{"a\x00b"}}
Process id with an escape character
    Argument 'process_id' ${HIDDEN} 'a\\x1b[31mb' (contains U+001B).    Start Process Run    ${{"a\x1b[31mb"}}
Process id with a DEL
    Argument 'process_id' ${HIDDEN} 'ab\\x7f' (contains U+007F).    Start Process Run    ${{"ab\x7f"}}
Process id with a right-to-left override
    Argument 'process_id' ${HIDDEN} 'abc\\u202egpj.exe' (contains U+202E).
    ...    Start Process Run    ${{"abc\u202egpj.exe"}}
Process id with a byte order mark
    Argument 'process_id' ${HIDDEN} '\\ufeffquick' (contains U+FEFF).    Start Process Run    ${{"\ufeffquick"}}
Process run id with a NUL
    Argument 'process_run_id' ${HIDDEN} 'r1\\x00' (contains U+0000).    Get Process Run    ${{"r1\x00"}}
Process run id with a right-to-left override to stop
    Argument 'process_run_id' ${HIDDEN} 'r\\u202e1' (contains U+202E).    Stop Process Run    ${{"r\u202e1"}}
Work item id with an escape character
    Argument 'work_item_ids' ${HIDDEN} 'w\\x1b' (contains U+001B).
    ...    Start Process Run    quick    work_item_ids=${{["w1", "w\x1b"]}}
Integration process id with a byte order mark
    Argument 'process_id' ${HIDDEN} '\\ufeffquick' (contains U+FEFF).
    ...    Start Process Run For Integration    ${{"\ufeffquick"}}    {}
Session with a workspace id holding a DEL
    Argument 'workspace_id' ${HIDDEN} 'ws\\x7f' (contains U+007F).
    ...    Create Control Room Session    bad    workspace_id=${{"ws\x7f"}}
A long bad id is cut in the message
    Argument 'process_run_id' ${ID RULE} ${LONG SHOWN}... (cut, 600 characters in all) (contains '/').
    ...    Get Process Run    ${LONG ID}
Payload that is not JSON
    Argument 'payload' ${NOT JSON} (Expecting property name enclosed in double quotes: line 1 column 2 (char 1)).
    ...    Start Process Run    quick    payload={not json
Payload nested too deep
    Argument 'payload' is nested deeper than 32 levels.
    ...    Start Process Run    quick    payload=${DEEP}
Payload that cannot be sent as JSON
    Argument 'payload' must be a dictionary, a list or a string holding JSON, got a value that cannot be sent as JSON (Object of type set is not JSON serializable).
    ...    Start Process Run    quick    payload=${{ {1, 2} }}
Payload string holding NaN
    Argument 'payload' ${NOT JSON} (NaN is not a JSON value).
    ...    Start Process Run    quick    payload={"amount": NaN}
Payload string holding Infinity
    Argument 'payload' ${NOT JSON} (Infinity is not a JSON value).
    ...    Start Process Run    quick    payload=[1, Infinity]
Payload dictionary holding nan
    Argument 'payload' ${NOT FINITE}    Start Process Run    quick    payload=${{ {"amount": math.nan} }}
Payloads holding minus infinity
    Argument 'payloads' ${NOT FINITE}
    ...    Start Process Run    quick    payloads=${{ [{"n": 1}, {"n": -math.inf}] }}
Start and wait with a payload holding infinity
    Argument 'payload' ${NOT FINITE}
    ...    Start Process Run And Wait    quick    payload=${{ [math.inf] }}
Integration payload holding nan
    Argument 'payload' ${NOT FINITE}
    ...    Start Process Run For Integration    quick    ${{ {"x": float("nan")} }}
Empty list of payloads
    Argument 'payloads' must be a non-empty list of payloads, got [].
    ...    Start Process Run    quick    payloads=${{[]}}
Payloads that are not a list
    Argument 'payloads' must be a non-empty list of payloads, got '{"a": 1}'.
    ...    Start Process Run    quick    payloads={"a": 1}
Payloads not JSON
    Argument 'payloads' ${NOT JSON} (Expecting value: line 1 column 4 (char 3)).
    ...    Start Process Run    quick    payloads=[1,
Payload and payloads at once
    Arguments 'payload' and 'payloads' cannot be used together: give at most one of 'payload', 'payloads', 'work_item_ids' and 'use_input_queue'.
    ...    Start Process Run    quick    payload={}    payloads=[{}]
Payload and the input queue at once
    Arguments 'payload' and 'use_input_queue' cannot be used together: give at most one of 'payload', 'payloads', 'work_item_ids' and 'use_input_queue'.
    ...    Start Process Run    quick    payload={}    use_input_queue=True
Three start modes at once
    Arguments 'payloads' and 'work_item_ids' and 'use_input_queue' cannot be used together: give at most one of 'payload', 'payloads', 'work_item_ids' and 'use_input_queue'.
    ...    Start Process Run    quick    payloads=[{}]    work_item_ids=${{["w1"]}}    use_input_queue=True
Empty list of work item ids
    Argument 'work_item_ids' must be a non-empty list of ids, got [].
    ...    Start Process Run    quick    work_item_ids=${{[]}}
Work item id with a slash
    Argument 'work_item_ids' ${ID RULE} 'a/b' (contains '/').
    ...    Start Process Run    quick    work_item_ids=${{["w1", "a/b"]}}
Callback without a secret
    Argument 'callback_url' needs 'callback_secret': Control Room signs callbacks with it.
    ...    Start Process Run    quick    callback_url=http://127.0.0.1:9/hook
Callback secret without a URL
    Argument 'callback_secret' needs 'callback_url'.
    ...    Start Process Run    quick    callback_secret=${CALLBACK_SECRET}
Callback URL that is not http
    Argument 'callback_url' must be an http:// or https:// URL, got 'ftp://127.0.0.1/hook'.
    ...    Start Process Run    quick    callback_url=ftp://127.0.0.1/hook    callback_secret=${CALLBACK_SECRET}
Unknown callback event
    [Tags]    python-3.11-messages
    ValueError: Argument 'callback_events' got value '['finished']' (list) that cannot be converted to list[CallbackEvent]: Item '0' got value 'finished' that cannot be converted to CallbackEvent: CallbackEvent does not have member 'finished'. Available: 'COMPLETED', 'STARTED' and 'UNRESOLVED'
    ...    Start Process Run    quick    callback_url=http://127.0.0.1:9/hook
    ...    callback_secret=${CALLBACK_SECRET}    callback_events=${{["finished"]}}
No callback events
    Argument 'callback_events' must not be empty.
    ...    Start Process Run    quick    callback_url=http://127.0.0.1:9/hook
    ...    callback_secret=${CALLBACK_SECRET}    callback_events=${{[]}}
Integration handshake other than asana
    Argument 'with_handshake' must be 'asana' or not given, got 'slack'.
    ...    Start Process Run For Integration    quick    {}    with_handshake=slack
Integration payload that is not JSON
    Argument 'payload' ${NOT JSON} (Expecting value: line 1 column 1 (char 0)).
    ...    Start Process Run For Integration    quick    nope
Empty integration token
    Argument 'token' must be a non-empty string, got ''.
    ...    Start Process Run For Integration    quick    {}    token=${EMPTY}
Integration process id with a hash
    Argument 'process_id' ${ID RULE} 'p#1' (contains '#').
    ...    Start Process Run For Integration    p#1    {}
Empty process run id
    Argument 'process_run_id' must be a non-empty id, got ''.    Get Process Run    ${EMPTY}
Process run id that climbs up
    Argument 'process_run_id' ${ID RULE} '../x' (contains '/').    Get Process Run    ../x
Process run id that is a dot
    Argument 'process_run_id' ${ID RULE} '.' (contains '.').    Get Process Run    .
Process run id with a query
    Argument 'process_run_id' ${ID RULE} 'r?state\=new' (contains '?').    Get Process Run    r?state\=new
Process run id with a fragment
    Argument 'process_run_id' ${ID RULE} 'r#frag' (contains '#').    Get Process Run State    r#frag
Stop with a process run id holding a slash
    Argument 'process_run_id' ${ID RULE} 'a/b' (contains '/').    Stop Process Run    a/b
Delete with a process run id holding a question mark
    Argument 'process_run_id' ${ID RULE} 'a?b' (contains '?').    Delete Process Run    a?b
Outputs of an empty process run id
    Argument 'process_run_id' must be a non-empty id, got ''.    List Process Run Outputs    ${EMPTY}
Unknown state
    [Tags]    python-3.11-messages
    ValueError: Argument 'state' got value 'finished' that cannot be converted to ProcessRunState: ProcessRunState does not have member 'finished'. Available: 'COMPLETED', 'IN_PROGRESS', 'NEW', 'STOPPING' and 'UNRESOLVED'
    ...    List Process Runs    state=finished
Limit zero
    Argument 'limit' must be a positive integer, got 0.    List Process Runs    limit=0
Negative limit
    Argument 'limit' must be a positive integer, got -1.    List Process Runs    limit=-1
Limit that is not a number
    ValueError: Argument 'limit' got value 'abc' that cannot be converted to integer or None.
    ...    List Process Runs    limit=abc
Empty process id filter
    Argument 'process_id' must be a non-empty string, got ''.    List Process Runs    process_id=${EMPTY}
Outputs limit zero
    Argument 'limit' must be a positive integer, got 0.    List Process Run Outputs    r1    limit=0
Negative wait timeout
    [Tags]    python-3.11-messages
    ValueError: Argument 'timeout' got value '-5 s' that cannot be converted to Time: a time cannot be negative.
    ...    Wait Until Process Run Completes    r1    timeout=-5 s
Unparsable wait timeout
    [Tags]    python-3.11-messages
    ValueError: Argument 'timeout' got value 'soon' that cannot be converted to Time: ${TIME RULE}
    ...    Wait Until Process Run Completes    r1    timeout=soon
Wait timeout nan
    [Tags]    python-3.11-messages
    ValueError: Argument 'timeout' got value 'nan' that cannot be converted to Time: ${FINITE}
    ...    Wait Until Process Run Completes    r1    timeout=nan
Wait timeout infinity
    [Tags]    python-3.11-messages
    ValueError: Argument 'timeout' got value 'inf' that cannot be converted to Time: ${FINITE}
    ...    Wait Until Process Run Completes    r1    timeout=inf
Wait poll interval infinity
    [Tags]    python-3.11-messages
    ValueError: Argument 'poll_interval' got value 'inf' that cannot be converted to Time: ${FINITE}
    ...    Wait Until Process Run Completes    r1    poll_interval=inf
Wait timeout given as a float nan
    [Tags]    python-3.11-messages
    ValueError: Argument 'timeout' got value 'nan' (float) that cannot be converted to Time: ${FINITE}
    ...    Wait Until Process Runs Complete    ${{["r1"]}}    timeout=${{math.nan}}
Start and wait with an infinite timeout
    [Tags]    python-3.11-messages
    ValueError: Argument 'timeout' got value 'infinity' that cannot be converted to Time: ${FINITE}
    ...    Start Process Run And Wait    quick    timeout=infinity
Poll interval zero
    Argument 'poll_interval' must be more than 0 seconds.
    ...    Wait Until Process Run Completes    r1    poll_interval=0
Expected duration zero
    Argument 'expected_duration' must be more than 0 seconds.
    ...    Wait Until Process Run Completes    r1    expected_duration=0
Negative expected duration for a group
    [Tags]    python-3.11-messages
    ValueError: Argument 'expected_duration' got value '-1 s' that cannot be converted to Time: a time cannot be negative.
    ...    Wait Until Process Runs Complete    ${{["r1", "r2"]}}    expected_duration=-1 s
Expected duration zero for start and wait
    Argument 'expected_duration' must be more than 0 seconds.
    ...    Start Process Run And Wait    quick    expected_duration=0
Unknown on_timeout
    ValueError: Argument 'on_timeout' got value 'explode' that cannot be converted to OnTimeout: OnTimeout does not have member 'explode'. Available: 'CONTINUE', 'FAIL' and 'STOP'
    ...    Wait Until Process Run Completes    r1    on_timeout=explode
Wait for an empty id
    Argument 'process_run_id' must be a non-empty id, got ''.
    ...    Wait Until Process Run Completes    ${EMPTY}
Wait for an empty list of runs
    Argument 'process_run_ids' must be a non-empty list of ids, got [].
    ...    Wait Until Process Runs Complete    ${{[]}}
Wait for runs given as a plain string
    ValueError: Argument 'process_run_ids' got value 'abc' that cannot be converted to list[str]: Invalid expression.
    ...    Wait Until Process Runs Complete    abc
Wait for runs one of which is empty
    Argument 'process_run_ids' must be a non-empty id, got ''.
    ...    Wait Until Process Runs Complete    ${{["r1", ""]}}
Start and wait with a negative timeout
    [Tags]    python-3.11-messages
    ValueError: Argument 'timeout' got value '-1' that cannot be converted to Time: a time cannot be negative.
    ...    Start Process Run And Wait    quick    timeout=-1
Start and wait with an unknown on_timeout
    ValueError: Argument 'on_timeout' got value 'never' that cannot be converted to OnTimeout: OnTimeout does not have member 'never'. Available: 'CONTINUE', 'FAIL' and 'STOP'
    ...    Start Process Run And Wait    quick    on_timeout=never
Start and wait with a payload that is not JSON
    Argument 'payload' ${NOT JSON} (Expecting value: line 1 column 4 (char 3)).
    ...    Start Process Run And Wait    quick    payload=[1,    poll_interval=1s
Unknown expected state
    ValueError: Argument 'expected_state' got value 'done' that cannot be converted to ProcessRunState: ProcessRunState does not have member 'done'. Available: 'COMPLETED', 'IN_PROGRESS', 'NEW', 'STOPPING' and 'UNRESOLVED'
    ...    Process Run State Should Be    r1    done
Negative default timeout
    ValueError: Argument 'timeout' got value '-1' that cannot be converted to Time: a time cannot be negative.
    ...    Set Process Run Timeout    -1
Default timeout nan
    ValueError: Argument 'timeout' got value 'NaN' that cannot be converted to Time: ${FINITE}
    ...    Set Process Run Timeout    NaN
Default poll interval infinity
    ValueError: Argument 'poll_interval' got value 'inf' that cannot be converted to Time: ${FINITE}
    ...    Set Process Run Poll Interval    inf
Default poll interval zero
    Argument 'poll_interval' must be more than 0 seconds.    Set Process Run Poll Interval    0
Session with a non-http api_url
    Argument 'api_url' must be an http:// or https:// URL, got 'ftp://127.0.0.1/api/v1'.
    ...    Create Control Room Session    bad    api_url=ftp://127.0.0.1/api/v1
Session with an api_url that is no URL
    Argument 'api_url' must be an http:// or https:// URL, got 'not a url'.
    ...    Create Control Room Session    bad    api_url=not a url
Session with an api_url with a query
    Argument 'api_url' must not have a query or a fragment, got 'http://127.0.0.1/api/v1?x\=1'.
    ...    Create Control Room Session    bad    api_url=http://127.0.0.1/api/v1?x\=1
Session with an api_url holding a user and password
    Argument 'api_url' ${NO USER}
    ...    Create Control Room Session    bad    api_url=http://robot:hunter2-password@127.0.0.1/api/v1
Session with an api_url holding a user name
    Argument 'api_url' ${NO USER}
    ...    Create Control Room Session    bad    api_url=https://robot@cloud.robocorp.com/api/v1
Session with an api_url with a fragment
    Argument 'api_url' must not have a query or a fragment, got 'http://127.0.0.1/api/v1#top'.
    ...    Create Control Room Session    bad    api_url=http://127.0.0.1/api/v1#top
Session with an api_url with an empty query
    Argument 'api_url' must not have a query or a fragment, got 'http://127.0.0.1/api/v1?'.
    ...    Create Control Room Session    bad    api_url=http://127.0.0.1/api/v1?
Session with an api_url with a port out of range
    Argument 'api_url' ${PORT RULE} 'http://127.0.0.1:70000/api/v1'.
    ...    Create Control Room Session    bad    api_url=http://127.0.0.1:70000/api/v1
Session with an api_url with port zero
    Argument 'api_url' must have a host and a port from 1 to 65535, got 'http://127.0.0.1:0/api/v1'.
    ...    Create Control Room Session    bad    api_url=http://127.0.0.1:0/api/v1
Session with an api_url with a port that is no number
    Argument 'api_url' ${PORT RULE} 'http://127.0.0.1:http/api/v1'.
    ...    Create Control Room Session    bad    api_url=http://127.0.0.1:http/api/v1
Session with a long api_url
    Argument 'api_url' must be an http:// or https:// URL, got ${LONG URL SHOWN}... (cut, 1006 characters in all).
    ...    Create Control Room Session    bad    api_url=${LONG URL}
Session with a request timeout of zero
    Argument 'request_timeout' must be more than 0 seconds.
    ...    Create Control Room Session    bad    request_timeout=0
Session with an unparsable request timeout
    [Tags]    python-3.11-messages
    ValueError: Argument 'request_timeout' got value 'soon' that cannot be converted to Time: ${TIME RULE}
    ...    Create Control Room Session    bad    request_timeout=soon
Session with a request timeout of infinity
    [Tags]    python-3.11-messages
    ValueError: Argument 'request_timeout' got value 'inf' that cannot be converted to Time: ${FINITE}
    ...    Create Control Room Session    bad    request_timeout=inf
Session with negative retries
    Argument 'max_retries' must be a whole number of 0 or more, got -1.
    ...    Create Control Room Session    bad    max_retries=-1
Session with retries that are not a number
    ValueError: Argument 'max_retries' got value 'many' that cannot be converted to integer or None.
    ...    Create Control Room Session    bad    max_retries=many
Session with a CA bundle that does not exist
    Argument 'verify' must be True, False or the path to a CA bundle, got '/no/such/bundle.pem' (no such file).
    ...    Create Control Room Session    bad    verify=/no/such/bundle.pem
Session with an empty alias
    Argument 'alias' must be a non-empty string, got ''.    Create Control Room Session    ${EMPTY}
Session with a workspace id holding a slash
    Argument 'workspace_id' ${ID RULE} 'a/b' (contains '/').
    ...    Create Control Room Session    bad    workspace_id=a/b
Session with a key holding a line break
    Argument 'api_key' must not contain white space or control characters: it is sent in the Authorization header.
    ...    Create Control Room Session    bad    api_key=key\nwith a line break
Session with a key holding a non-ASCII letter
    Argument 'api_key' must hold only ASCII characters: it is sent in the Authorization header.
    ...    Create Control Room Session    bad    api_key=schlüssel-1234
Session with a key holding a right-to-left override
    Argument 'api_key' must not contain white space or control characters: it is sent in the Authorization header.
    ...    Create Control Room Session    bad    api_key=${{"key\u202e1234"}}
Switch to an unknown session
    Argument 'alias' names no Control Room session: 'nope'. Sessions: 'private'.
    ...    Switch Control Room Session    nope
Unknown alias
    Argument 'alias' names no Control Room session: 'nope'. Sessions: 'private'.
    ...    Get Process Run    r1    alias=nope
Import with a non-http api_url
    Argument 'api_url' must be an http:// or https:// URL, got 'ftp://127.0.0.1/api/v1'.
    ...    Import And Use    api_url=ftp://127.0.0.1/api/v1
Import without a workspace id
    No workspace id: give 'workspace_id' when importing ProcessRunLibrary or to 'Create Control Room Session', or set the environment variable RC_WORKSPACE_ID.
    ...    Import And Use    workspace_id=${None}
Import with a negative timeout
    ${IMPORTED} Argument 'timeout' got value '-3': a time cannot be negative.
    ...    Import And Use    timeout=-3
Import with an unparsable poll interval
    ${IMPORTED} Argument 'poll_interval' got value 'often': ${TIME RULE}
    ...    Import And Use    poll_interval=often
Import with a nan timeout
    ${IMPORTED} Argument 'timeout' got value 'nan': ${FINITE}
    ...    Import And Use    timeout=nan
Import with an infinite poll interval
    ${IMPORTED} Argument 'poll_interval' got value 'inf': ${FINITE}
    ...    Import And Use    poll_interval=inf
Import with an infinite request timeout
    Argument 'request_timeout' got value 'inf': ${FINITE}
    ...    Import And Use    request_timeout=inf
Import with an api_url holding a password
    Argument 'api_url' ${NO USER}
    ...    Import And Use    api_url=http://robot:hunter2-password@127.0.0.1/api/v1
Import with a request timeout of zero
    Argument 'request_timeout' must be more than 0 seconds.
    ...    Import And Use    request_timeout=0
Import with negative retries
    Argument 'max_retries' must be a whole number of 0 or more, got -1.
    ...    Import And Use    max_retries=-1
Import with retries that are not a number
    Argument 'max_retries' must be a whole number of 0 or more, got 'abc'.
    ...    Import And Use    max_retries=abc
Import with a CA bundle that does not exist
    Argument 'verify' must be True, False or the path to a CA bundle, got '/no/such/bundle.pem' (no such file).
    ...    Import And Use    verify=/no/such/bundle.pem
A Wrong Key Is Refused By Control Room With 403
    [Documentation]    The one bad input that only Control Room can tell: one request is sent,
    ...    and refused.
    [Template]    NONE
    Private.Clear Request Log
    Create Control Room Session    wrong key    api_url=${PRIVATE URL}    api_key=${API_KEY}-wrong
    ...    max_retries=3
    Run Keyword And Expect Error
    ...    EQUALS:GET /workspaces/${WORKSPACE_ID}/process-runs/r1 failed: 403 Forbidden: forbidden: The API key or token in the Authorization header is not valid.
    ...    Get Process Run    r1
    Statuses Should Be    ${None}    .    403
    [Teardown]    Switch Control Room Session    private
Start With A Boolean That Is No Boolean
    Argument 'use_input_queue' must be True or False, got 'maybe'.
    ...    Start Process Run    quick    use_input_queue=maybe
Stop With A Boolean That Is No Boolean
    Argument 'set_remaining_work_items_as_done' must be True or False, got 'perhaps'.
    ...    Stop Process Run    r1    set_remaining_work_items_as_done=perhaps
Wait With A Boolean That Is No Boolean
    Argument 'fail_on_unresolved' must be True or False, got 'sometimes'.
    ...    Wait Until Process Run Completes    r1    fail_on_unresolved=sometimes
Get A Run Whose Id Is None
    ValueError: Argument 'process_run_id' got value 'None' (None) that cannot be converted to Id.
    ...    Get Process Run    ${None}
Wait For Runs With One Bad Id Among Them
    Argument 'process_run_ids' must be an id without '/', '?', '#', '\\' or white space, got 'a/b' (contains '/').
    ...    Wait Until Process Runs Complete    ${{["r1", "a/b"]}}
Retries That Are Not A Number In The Settings Table Fail The First Keyword, Not Robot
    [Documentation]    ``max_retries=three`` in ``*** Settings ***`` crashed Robot Framework
    ...    (rc 255, no log.html) when the library converted it at import. A child robot
    ...    imports the library so, and its first keyword fails with the message.
    [Template]    NONE
    Private.Clear Request Log
    ${result} =    Run Process    ${PYTHON}    -m    robot    --output    NONE    --report    NONE
    ...    --log    NONE    --variable    URL:${PRIVATE URL}    --variable    WS:${WORKSPACE_ID}
    ...    ${CURDIR}/../resources/bad_import_cases.robot    stderr=STDOUT    timeout=1 minute
    ...    on_timeout=kill
    Should Contain    ${result.stdout}    1 test, 1 passed, 0 failed
    Should Be Equal As Integers    ${result.rc}    0    ${result.stdout}
    ${sent} =    Private.Get Request Count
    Should Be Equal    ${sent}    ${0}


*** Keywords ***
Start Bad Input Suite
    Start Private Emulator
    Remove Environment Variable    RC_WORKSPACE_ID    RC_API_URL_V1
    # Test cases import the library again; its keywords still come from the first import.
    Set Library Search Order    ProcessRunLibrary
    ${deep} =    Evaluate    json.loads("[" * 40 + "]" * 40)
    Set Suite Variable    ${DEEP}    ${deep}
    Set Suite Variable    ${IMPORTS}    ${0}
    Set Suite Variable    ${LONG ID}    ${{"a/" * 300}}
    Set Suite Variable    ${LONG SHOWN}    ${{"'" + "a/" * 99 + "a"}}
    Set Suite Variable    ${LONG URL}    ${{"ftp://" + "x" * 1000}}
    Set Suite Variable    ${LONG URL SHOWN}    ${{"'ftp://" + "x" * 193}}

Is Refused Before Sending
    [Arguments]    ${expected}    ${keyword}    @{args}    &{kwargs}
    Private.Clear Request Log
    ${expected} =    Set Variable If    $expected.startswith("GLOB:")    ${expected}    EQUALS:${expected}
    Run Keyword And Expect Error    ${expected}    ${keyword}    @{args}    &{kwargs}
    ${sent} =    Private.Get Request Count
    Should Be Equal    ${sent}    ${0}    ${sent} request(s) sent for bad input.
    [Teardown]    Switch Control Room Session    private

Import And Use
    [Documentation]    Imports the library with the private emulator's settings and the
    ...    library's defaults, replaced by what is given, and uses it: a bad import argument
    ...    fails the first keyword, not the import (Robot would show every import argument,
    ...    the key too).
    [Arguments]    ${api_url}=${PRIVATE URL}    # robocop: off=too-many-arguments
    ...    ${workspace_id}=${WORKSPACE_ID}
    ...    ${request_timeout}=30 seconds
    ...    ${timeout}=30 minutes
    ...    ${poll_interval}=10 seconds
    ...    ${max_retries}=3
    ...    ${verify}=True
    ${IMPORTS} =    Evaluate    ${IMPORTS} + 1
    Set Suite Variable    ${IMPORTS}
    Import Library    ProcessRunLibrary    api_url=${api_url}    workspace_id=${workspace_id}
    ...    api_key=${API_KEY}    request_timeout=${request_timeout}    timeout=${timeout}
    ...    poll_interval=${poll_interval}    max_retries=${max_retries}    verify=${verify}
    ...    AS    Imported${IMPORTS}
    Run Keyword    Imported${IMPORTS}.Wait Until Process Run Completes    r1
