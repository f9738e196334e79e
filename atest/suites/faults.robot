*** Settings ***
Documentation     The retry policy, proven with a private emulator's faults and request log.
...
...               GET and DELETE, and stop, are repeated after connection errors, timeouts,
...               429, 502, 503 and 504, with backoff and ``Retry-After``; a start is
...               repeated only when Control Room certainly did not get it (a 429, a refused
...               connection) and never when its answer may have been lost after the run was
...               created. A hanging server fails a keyword after ``request_timeout`` (times
...               the attempts that ``max_retries`` allows).

Resource          private_emulator.resource

Suite Setup       Start Faults Suite
Suite Teardown    Run Keywords    Private.Stop Emulator    AND    Close All Control Room Sessions
Test Setup        Private.Reset Emulator
Test Teardown     Switch Control Room Session    private


*** Variables ***
${STARTING}    POST /workspaces/${WORKSPACE_ID}/processes/quick/process-runs failed:


*** Test Cases ***
A 503 On The First GET Is Retried
    ${id} =    Start Process Run    quick
    Private.Inject Fault    status=503    method=GET    path=${RUN PATH}    nth=${1}
    ${run} =    Get Process Run    ${id}
    Should Be Equal    ${run.id}    ${id}
    Statuses Should Be    GET    ${RUN PATH}    503    200

Requests That May Be Repeated Are Retried After One Fault
    [Documentation]    The first matching request gets the fault, the repeated one the answer.
    [Template]    One Fault Is Retried
    Get Process Run    GET    ${RUN PATH}    status=429
    Get Process Run    GET    ${RUN PATH}    status=502
    Get Process Run State    GET    ${RUN PATH}    status=503
    Get Process Run    GET    ${RUN PATH}    status=504
    Get Process Run    GET    ${RUN PATH}    drop=${True}
    Get Process Run    GET    ${RUN PATH}    lost_answer=${True}
    List Process Runs    GET    /process-runs$    status=503
    List Process Run Outputs    GET    /outputs$    drop=${True}
    Delete Process Run    DELETE    ${RUN PATH}    status=502
    Delete Process Run    DELETE    ${RUN PATH}    drop=${True}
    Stop Process Run    POST    /stop$    status=503
    Stop Process Run    POST    /stop$    drop=${True}

A Stop Whose Answer Was Lost Is Repeated And Stops The Run Once
    ${id} =    Start Process Run    forever
    Private.Inject Fault    method=POST    path=/stop$    lost_answer=${True}    times=1
    Stop Process Run    ${id}    reason=Lost answer
    Statuses Should Be    POST    /stop$    502    200
    ${run} =    Wait Until Process Run Completes    ${id}    fail_on_unresolved=False
    Should Be Equal    ${run.state}    unresolved
    ${runs} =    Emulator Should Have Runs    1
    Should Be Equal    ${runs}[0][stop][reason]    Lost answer

Retry-After Of A 429 Is Honoured
    ${id} =    Start Process Run    quick
    Private.Inject Fault    status=429    retry_after=1 s    method=GET    path=${RUN PATH}    times=1
    ${started} =    Evaluate    time.monotonic()
    Get Process Run    ${id}
    ${elapsed} =    Seconds Since    ${started}
    Should Be True    1.0 <= ${elapsed} < 3    Waited ${elapsed} s, not the 1 s of Retry-After.
    Statuses Should Be    GET    ${RUN PATH}    429    200

A Start Is Repeated Only When Control Room Certainly Did Not Get It
    [Documentation]    Columns: start requests sent, runs created, the keyword's outcome
    ...    (``started``, or its error message), the fault on the first start request.
    [Template]    Start Under Fault
    2    1    started    status=429
    2    1    started    status=429    retry_after=1 s
    1    1    ${STARTING} 502 Bad Gateway: bad_gateway: Injected fault f1: 502 Bad Gateway. ${MAY HAVE STARTED}
    ...    lost_answer=${True}
    1    1    ${STARTING} 503 Service Unavailable: service_unavailable: Injected fault f1: 503 Service Unavailable. ${MAY HAVE STARTED}
    ...    lost_answer=${True}    status=503    retry_after=1 s
    1    1    ${STARTING} the connection was closed before an answer came. ${MAY HAVE STARTED}
    ...    lost_answer=${True}    drop=${True}
    1    0    ${STARTING} the connection was closed before an answer came. ${MAY HAVE STARTED}
    ...    drop=${True}
    1    0    ${STARTING} 500 Internal Server Error: internal_server_error: Injected fault f1: 500 Internal Server Error. ${MAY HAVE STARTED}
    ...    status=500
    1    0    ${STARTING} 502 Bad Gateway: bad_gateway: Injected fault f1: 502 Bad Gateway. ${MAY HAVE STARTED}
    ...    status=502
    1    0    ${STARTING} 504 Gateway Timeout: gateway_timeout: Injected fault f1: 504 Gateway Timeout. ${MAY HAVE STARTED}
    ...    status=504

A Start Refused With 429 Until Retries Run Out Started Nothing
    Create Control Room Session    one retry    api_url=${PRIVATE URL}    max_retries=1
    Private.Inject Fault    status=429    method=POST    path=${START PATH}
    Run Keyword And Expect Error
    ...    EQUALS:${STARTING} 429 Too Many Requests: too_many_requests: Injected fault f1: 429 Too Many Requests. (after 1 retry)
    ...    Start Process Run    quick
    Statuses Should Be    POST    ${START PATH}    429    429
    Emulator Should Have Runs    0

A Start Is Repeated After Connection Refused
    Create Control Room Session    closed    api_url=http://127.0.0.1:9/api/v1    max_retries=1
    Run Keyword And Expect Error
    ...    EQUALS:${STARTING} connection refused (after 1 retry).
    ...    Start Process Run    quick

An Integration Start Follows The Same Policy
    Private.Inject Fault    status=429    method=POST    path=${INTEGRATION PATH}    nth=${1}
    Private.Inject Fault    lost_answer=${True}    method=POST    path=${INTEGRATION PATH}    nth=${3}
    ${id} =    Start Process Run For Integration    quick    {"n": 1}
    Run Keyword And Expect Error
    ...    EQUALS:POST /workspaces/${WORKSPACE_ID}/processes/quick/process-runs-integrations?token=*** failed: 502 Bad Gateway: bad_gateway: Injected fault f2: 502 Bad Gateway. ${MAY HAVE STARTED}
    ...    Start Process Run For Integration    quick    {"n": 2}
    Statuses Should Be    POST    ${INTEGRATION PATH}    429    200    502
    ${runs} =    Emulator Should Have Runs    2
    Should Be Equal    ${runs}[0][id]    ${id}
    Should Be Equal    ${runs}[1][payloads]    ${{[{"n": 2}]}}

Max Retries Comes From The Session, Then The Import
    Import Library    ProcessRunLibrary    api_url=${PRIVATE URL}    workspace_id=${WORKSPACE_ID}
    ...    api_key=${API_KEY}    max_retries=2    AS    TwoRetries
    Private.Inject Fault    status=503    method=GET    path=${RUN PATH}
    Run Keyword And Expect Error
    ...    EQUALS:GET /workspaces/${WORKSPACE_ID}/process-runs/x failed: 503 Service Unavailable: service_unavailable: Injected fault f1: 503 Service Unavailable. (after 2 retries)
    ...    TwoRetries.Get Process Run    x    # robotcode: ignore[KeywordNotFound]    (imported at run time)
    Statuses Should Be    GET    ${RUN PATH}    503    503    503
    Private.Clear Request Log
    TwoRetries.Create Control Room Session    no retries    max_retries=0    # robotcode: ignore[KeywordNotFound]    (imported at run time)
    Run Keyword And Expect Error
    ...    EQUALS:GET /workspaces/${WORKSPACE_ID}/process-runs/x failed: 503 Service Unavailable: service_unavailable: Injected fault f1: 503 Service Unavailable.
    ...    TwoRetries.Get Process Run    x    # robotcode: ignore[KeywordNotFound]    (imported at run time)
    Statuses Should Be    GET    ${RUN PATH}    503

The Default Is Three Retries
    Private.Inject Fault    status=502    method=GET    path=${RUN PATH}
    Run Keyword And Expect Error
    ...    EQUALS:GET /workspaces/${WORKSPACE_ID}/process-runs/x failed: 502 Bad Gateway: bad_gateway: Injected fault f1: 502 Bad Gateway. (after 3 retries)
    ...    Get Process Run    x
    Statuses Should Be    GET    ${RUN PATH}    502    502    502    502

A Hanging Server Fails A Keyword After The Request Timeout
    [Documentation]    Columns: max_retries, the error, the GET requests sent, the shortest and
    ...    the longest time the keyword may take (0.5 s per attempt, 0.5 to 0.75 s backoff,
    ...    and slack for a busy machine).
    [Template]    Hanging Server
    0    no answer within 0.5 seconds.    1    0.5    2.5
    1    no answer within 0.5 seconds (after 1 retry).    2    1.5    4

A Hanging Start Is Not Repeated
    Create Control Room Session    impatient    api_url=${PRIVATE URL}    request_timeout=0.5 s
    Private.Inject Fault    method=POST    path=${START PATH}    hang=${True}
    Run Keyword And Expect Error
    ...    EQUALS:${STARTING} no answer within 0.5 seconds. ${MAY HAVE STARTED}
    ...    Start Process Run    quick
    Statuses Should Be    POST    ${START PATH}    None
    Emulator Should Have Runs    0

A Wait Outlives More Faults Than Max Retries
    [Documentation]    Polls that fail after their retries do not end a wait: it goes on
    ...    polling until its timeout.
    Create Control Room Session    one retry    api_url=${PRIVATE URL}    max_retries=1
    ...    request_timeout=0.5 s
    ${id} =    Start Process Run    quick
    Private.Inject Fault    status=503    method=GET    path=${RUN PATH}    times=3
    Private.Inject Fault    hang=${True}    method=GET    path=${RUN PATH}    times=1
    Private.Inject Fault    status=500    method=GET    path=${RUN PATH}    times=1
    ${run} =    Wait Until Process Run Completes    ${id}    timeout=20 s
    Should Be Equal    ${run.state}    completed
    ${requests} =    Private.Get Requests    GET    ${RUN PATH}
    Should Be Equal    ${requests}[-1][status]    ${200}
    Should Be True    len($requests) >= 6


*** Keywords ***
Start Faults Suite
    Start Private Emulator
    # Test cases import the library again; its keywords still come from the first import.
    Set Library Search Order    ProcessRunLibrary

One Fault Is Retried
    [Arguments]    ${keyword}    ${method}    ${path}    &{fault}
    Private.Reset Emulator
    ${process} =    Set Variable If    $keyword == "Stop Process Run"    forever    quick
    ${id} =    Start Process Run    ${process}
    IF    $process == "quick"    Wait Until Process Run Completes    ${id}
    Private.Clear Request Log
    Private.Inject Fault    method=${method}    path=${path}    nth=${1}    &{fault}
    IF    $keyword == "List Process Runs"
        List Process Runs    quick
    ELSE
        Run Keyword    ${keyword}    ${id}
    END
    ${requests} =    Private.Get Requests    ${method}    ${path}
    Length Should Be    ${requests}    2
    Should Be Equal    ${requests}[0][fault]    f1
    Should Be Equal    ${requests}[1][status]    ${200}
    Should Be Equal    ${requests}[1][fault]    ${None}

Start Under Fault
    [Arguments]    ${posts}    ${runs}    ${outcome}    &{fault}
    Private.Reset Emulator
    Private.Inject Fault    method=POST    path=${START PATH}    times=1    &{fault}
    IF    $outcome == "started"
        ${id} =    Start Process Run    quick
    ELSE
        Run Keyword And Expect Error    EQUALS:${outcome}    Start Process Run    quick
    END
    ${sent} =    Private.Get Request Count    POST    ${START PATH}
    Should Be Equal As Integers    ${sent}    ${posts}    Start requests sent
    ${created} =    Emulator Should Have Runs    ${runs}
    IF    $outcome == "started"    Should Be Equal    ${created}[0][id]    ${id}

Hanging Server
    [Arguments]    ${retries}    ${error}    ${requests}    ${shortest}    ${longest}
    Private.Reset Emulator
    Create Control Room Session    hanging    api_url=${PRIVATE URL}    request_timeout=0.5 s
    ...    max_retries=${retries}
    Private.Inject Fault    method=GET    hang=${True}
    ${started} =    Evaluate    time.monotonic()
    Run Keyword And Expect Error
    ...    EQUALS:GET /workspaces/${WORKSPACE_ID}/process-runs/x failed: ${error}
    ...    Get Process Run    x
    ${elapsed} =    Seconds Since    ${started}
    Should Be True    ${shortest} <= ${elapsed} <= ${longest}
    ...    The keyword took ${elapsed} s, not ${shortest} to ${longest} s.
    ${sent} =    Private.Get Request Count    GET
    Should Be Equal As Integers    ${sent}    ${requests}    GET requests sent
    Switch Control Room Session    private
