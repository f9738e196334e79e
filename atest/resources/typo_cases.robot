*** Settings ***
Documentation    Run by typos.robot in a child robot, normally and with ``--dryrun``. A
...              ``name=value`` whose name is close to an argument name of the keyword
...              fails before anything is sent; a value that holds ``=`` is sent as written.

Library          ProcessRunLibrary    api_url=%{TYPOS_API_URL=http://127.0.0.1:8123/api/v1}
...                  workspace_id=%{ATEST_WORKSPACE_ID=atest-workspace}    max_retries=0
Library          ProcessRunLibrary.Emulator    api_url=%{TYPOS_API_URL=http://127.0.0.1:8123/api/v1}
...              api_key=%{ATEST_API_KEY=atest-key}    AS    Emulator

Suite Setup      Set Suite Variable    ${ROBOT 71}
...                  ${{tuple(int(p) for p in re.findall(r"\d+", robot.version.VERSION)[:2]) >= (7, 1)}}
Test Setup       Emulator.Clear Request Log


*** Variables ***
${ESCAPE}    To pass a value containing '=' positionally, escape it as


*** Test Cases ***
List Work Items With A Misspelt Run Id
    [Documentation]    Sent ``process_id=process_run=r1`` and returned ``[]`` before.
    [Tags]    typo
    Run Keyword And Expect Error
    ...    EQUALS:List Work Items got an unknown argument 'process_run' (did you mean 'process_run_id'?). ${ESCAPE} 'process_run\\=...'.
    ...    List Work Items    process_run=r1    state=failed
    Nothing Should Have Been Sent

Start With A Misspelt Payload
    [Documentation]    Failed about a payload that is not JSON, without its value, before.
    [Tags]    typo
    Run Keyword And Expect Error
    ...    EQUALS:Start Process Run got an unknown argument 'paylod' (did you mean 'payload'?). ${ESCAPE} 'paylod\\=...'.
    ...    Start Process Run    quick    paylod={"a": 1}
    Nothing Should Have Been Sent

Start With A Misspelt Input Queue
    [Tags]    typo
    Run Keyword And Expect Error
    ...    EQUALS:Start Process Run got an unknown argument 'use_input_queu' (did you mean 'use_input_queue'?). ${ESCAPE} 'use_input_queu\\=...'.
    ...    Start Process Run    quick    use_input_queu=True
    Nothing Should Have Been Sent

Start And Wait With A Misspelt Expected Duration
    [Tags]    typo
    Run Keyword And Expect Error
    ...    EQUALS:Start Process Run And Wait got an unknown argument 'expected_duraton' (did you mean 'expected_duration'?). ${ESCAPE} 'expected_duraton\\=...'.
    ...    Start Process Run And Wait    quick    expected_duraton=5 s
    Nothing Should Have Been Sent

Wait With A Misspelt Fail On Unresolved
    [Documentation]    The value lands in ``timeout``, which Robot converts before the
    ...    library runs: Robot Framework 6.1 and 7.0 keep Robot's message, ending with
    ...    the library's; on Python 3.10 they leave out the reason of a value that is
    ...    not ``Time or None`` (README, "Supported versions"), so only Robot's words stay.
    [Tags]    typo
    ${expected} =    Set Variable If    ${ROBOT 71}
    ...    Wait Until Process Run Completes got an unknown argument 'fail_on_unresolve' (did you mean 'fail_on_unresolved'?). ${ESCAPE} 'fail_on_unresolve\\=...'.
    ...    ${{sys.version_info < (3, 11)}}
    ...    ValueError: Argument 'timeout' got value 'fail_on_unresolve=False' that cannot be converted to Time or None.
    ...    ValueError: Argument 'timeout' got value 'fail_on_unresolve=False' that cannot be converted to Time: Wait Until Process Run Completes got an unknown argument 'fail_on_unresolve' (did you mean 'fail_on_unresolved'?). ${ESCAPE} 'fail_on_unresolve\\=...'.
    Run Keyword And Expect Error    EQUALS:${expected}
    ...    Wait Until Process Run Completes    r1    fail_on_unresolve=False
    Nothing Should Have Been Sent

Misspelt Api Key Is Refused And Stays Secret
    [Documentation]    Failed with ``Argument 'api_url' must be an http:// or https://
    ...    URL, got 'api_ky=...'`` and the key in it before; Robot's TRACE line of the
    ...    arguments shows it too. typos.robot looks for the key in this run's output.
    [Tags]    typo
    Run Keyword And Expect Error
    ...    EQUALS:Create Control Room Session got an unknown argument 'api_ky' (did you mean 'api_key'?). ${ESCAPE} 'api_ky\\=...'.
    ...    Create Control Room Session    typo    api_ky=%{TYPO_SECRET=typo-secret}
    Nothing Should Have Been Sent

Escaped Value Is Sent As Written
    ${items} =    List Work Items    process_run\=r1    state=failed
    Should Be Empty    ${items}
    Sent Should Be    /work-items    process_id=process_run=r1&state=failed

Value Holding An Equals Sign From A Variable Is Sent As Written
    ${value} =    Set Variable    process_run\=r1
    ${items} =    List Work Items    ${value}
    Should Be Empty    ${items}
    Sent Should Be    /work-items    process_id=process_run=r1

Base64 Id Is Sent As Written
    Run Keyword And Expect Error
    ...    EQUALS:GET /workspaces/%{ATEST_WORKSPACE_ID}/process-runs/YWJj%3D failed: 404 Not Found: not_found: Process run 'YWJj=' not found.
    ...    Get Process Run    YWJj=${EMPTY}
    Sent Should Be    ${{'/process-runs/YWJj='}}    ${EMPTY}

Payload Holding An Equals Sign Is Sent As Written
    Start Process Run    quick    {"filter": "state=failed"}
    Sent Should Be    /processes/quick/process-runs    ${EMPTY}


*** Keywords ***
Nothing Should Have Been Sent
    ${count} =    Emulator.Get Request Count
    Should Be Equal    ${count}    ${0}    ${count} request(s) sent for a typo.

Sent Should Be
    [Documentation]    One request was sent, to a path that ends with ``path``, with the
    ...    query ``query`` (decoded).
    [Arguments]    ${path}    ${query}
    ${requests} =    Emulator.Get Requests
    Length Should Be    ${requests}    1
    Should End With    ${requests}[0][path]    ${path}
    ${sent} =    Evaluate    urllib.parse.unquote(urllib.parse.urlencode($requests[0]["query"]))
    Should Be Equal    ${sent}    ${query}
